/** The "Trialbook" output channel: worker and CLI lines, timings, errors. */
import * as vscode from 'vscode';

export class Log implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('Trialbook', { log: true });

  info(text: string): void {
    this.channel.info(text);
  }
  warn(text: string): void {
    this.channel.warn(text);
  }
  error(text: string): void {
    this.channel.error(text);
  }
  /** A line from a child process, at the level it gave. */
  line(level: string, text: string): void {
    if (level === 'error') this.channel.error(text);
    else if (level === 'warn') this.channel.warn(text);
    else if (level === 'debug') this.channel.debug(text);
    else this.channel.info(text);
  }
  show(): void {
    this.channel.show(true);
  }
  dispose(): void {
    this.channel.dispose();
  }
}
