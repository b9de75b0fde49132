// Newline-delimited JSON from a stream of text chunks. A chunk may end anywhere, even
// inside a line; the partial line waits for the next chunk. (Text chunks, not bytes: the
// caller decodes UTF-8 with a decoder that keeps split characters whole.)
export class LineSplitter {
  #partial = '';

  constructor(readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.#partial + chunk;
    let start = 0;
    let nl: number;
    // Scan by index: a big chunk of many events must not be re-copied once per line.
    while ((nl = text.indexOf('\n', start)) >= 0) {
      const line = text.slice(start, nl).trim();
      start = nl + 1;
      if (line) this.onLine(line);
    }
    this.#partial = text.slice(start);
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    const line = this.#partial.trim();
    this.#partial = '';
    if (line) this.onLine(line);
  }
}
