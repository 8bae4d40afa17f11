// The starter .vscode/sandbox.json (pure, so a unit test checks that it parses and changes nothing).
/** What "Open Workspace Policy File" writes when there is none: valid, empty in effect, every key explained. */
export const STARTER_POLICY = `// Script Sandbox: this workspace's policy. It may only TIGHTEN your own settings (scriptSandbox.*);
// a loosening needs your approval (asked on the first run, or: script-sandbox approve).
// JSON with comments. Completion (Ctrl+Space) lists every key; the README explains each rule.
{
  // "mode": "enforce",            // disabled | warn | enforce
  // "profile": "strict",          // strict | moderate | permissive
  // "filesystem": {
  //   "denyWrite": ["dist/**"],   // globs, relative to the workspace
  //   "readOnly": false
  // },
  // "network": {
  //   "preset": "strict",         // none | strict | api-only | default
  //   "allowHosts": ["api.example.com"]
  // },
  // "limits": { "cpuSeconds": 60, "memoryMiB": 1024, "timeoutSeconds": 600 },
  // "env": { "allow": ["LANG", "LC_*"] }
}
`;

