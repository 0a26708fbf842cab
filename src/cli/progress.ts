// A one-line progress bar on a terminal (stderr); silent when not a TTY.
export class Progress {
  private last = 0;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(label: string, done: number, total: number, extra = ''): void {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const line = `${label.slice(-40).padEnd(40)} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${extra}`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns || 120) - 1)}`);
  }

  done(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
