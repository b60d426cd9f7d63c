"""`python -m floorwatch` runs the CLI."""

from floorwatch.cli import main

if __name__ == "__main__":
    main()
