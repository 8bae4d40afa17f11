// Alerts from the host's runtime monitor as notifications: critical ones at once, threshold ones with
// "Show" (reveals the run in the Sandbox Monitor). Each alert is also kept on its runs for the view.
import * as vscode from 'vscode';
import { readSettings } from './config';
import type { AlertMsg, HostClient } from './host-client';
import type { RunStore } from './runs';

export function watchAlerts(host: HostClient, runs: RunStore): vscode.Disposable {
  return host.onAlert((a: AlertMsg) => {
    const affected = a.runIds.map((id) => runs.get(id)).filter((r) => r !== undefined);
    for (const r of affected) {
      r.alerts.push(a);
      runs.changed(r);
    }
    let notify: 'all' | 'critical' | 'none' = 'all';
    try {
      notify = readSettings().notify;
    } catch {
      // a bad setting elsewhere is reported when a run starts; alerts still show
    }
    if (notify === 'none' || (notify === 'critical' && a.reason !== 'critical')) return;
    const show = 'Show';
    const text = `Script Sandbox: ${a.message}`;
    // An error toast only for what was really stopped; warn-mode alerts are warnings like their diagnostics.
    const blocked = a.violations.some((v) => v.action !== 'warned');
    const shown = a.reason === 'critical' && blocked ? vscode.window.showErrorMessage(text, show) : vscode.window.showWarningMessage(text, show);
    void shown.then((pick) => {
      if (pick === show && affected[0]) void vscode.commands.executeCommand('scriptSandbox.showRun', affected[0].id);
    });
  });
}
