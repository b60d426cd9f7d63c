// Node-RED settings for the ingest bench's peer (bench/nodered.py starts it with these).
// No editor, no projects: the flow in flows.json runs as it is; credentials come from the
// flows_cred.json the bench writes next to it (plain JSON: credentialSecret false).
module.exports = {
    flowFile: "flows.json",
    credentialSecret: false,
    uiHost: "127.0.0.1",
    uiPort: parseInt(process.env.FW_NODERED_PORT || "1880", 10),
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    logging: { console: { level: "info", metrics: false, audit: false } },
    functionGlobalContext: {},
    exportGlobalContextKeys: false,
    externalModules: { autoInstall: false }
};
