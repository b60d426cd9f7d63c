"""One router per resource; `api.app` mounts them under /api/v1 (system routes at the root)."""

# On each router itself (not at include time), so a matched route's `path` is the full template
# that request metrics label by.
PREFIX = "/api/v1"
