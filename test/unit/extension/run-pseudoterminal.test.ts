// The extension's terminal relay: keys typed before the host accepted the run are kept and sent in order,
// sizes follow the panel, and a Ctrl+C that ended the run by SIGINT counts as the user stopping it.
import { strict as assert } from 'node:assert';
import { TerminalRelay, type TerminalSize } from '../../../src/extension/run-pseudoterminal';

function link() {
  const sent: Array<['input', string] | ['resize', TerminalSize]> = [];
  return { sent, link: { input: (d: string) => sent.push(['input', d]), resize: (s: TerminalSize) => sent.push(['resize', s]) } };
}

describe('TerminalRelay', () => {
  it('asks for 24x80 until VS Code gives a size, then uses it', () => {
    const r = new TerminalRelay();
    assert.deepEqual(r.requestSize(), { rows: 24, cols: 80 });
    r.setSize({ rows: 40, columns: 120 });
    assert.deepEqual(r.requestSize(), { rows: 40, cols: 120 });
    r.setSize({ rows: 0, columns: 5 });
    assert.deepEqual(r.requestSize(), { rows: 40, cols: 120 });
  });

  it('keys typed before the run is accepted go out on connect, after the size, in order', () => {
    const r = new TerminalRelay();
    r.setSize({ rows: 30, columns: 100 });
    r.input('Ad');
    r.input('a\r');
    const l = link();
    r.connect(l.link);
    r.input('x');
    r.setSize({ rows: 31, columns: 101 });
    assert.deepEqual(l.sent, [['resize', { rows: 30, cols: 100 }], ['input', 'Ada\r'], ['input', 'x'], ['resize', { rows: 31, cols: 101 }]]);
  });

  it('nothing goes out after the run ended', () => {
    const r = new TerminalRelay();
    const l = link();
    r.connect(l.link);
    r.end();
    r.input('late');
    r.setSize({ rows: 10, columns: 10 });
    assert.deepEqual(l.sent, []);
  });

  it('a run ended by SIGINT (or 130) after the user pressed Ctrl+C was stopped by the user', () => {
    const r = new TerminalRelay();
    assert.equal(r.stoppedByInterrupt({ signal: 'SIGINT', exitCode: 130 }), false);
    r.connect(link().link);
    r.input('\x03');
    assert.equal(r.stoppedByInterrupt({ signal: 'SIGINT', exitCode: 130 }), true);
    assert.equal(r.stoppedByInterrupt({ signal: null, exitCode: 130 }), true);
    assert.equal(r.stoppedByInterrupt({ signal: null, exitCode: 0 }), false);
  });
});
