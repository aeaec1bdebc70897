import { errorLine, type Outcome, type Renderer, type RendererOptions } from '../renderer-interface.js';

/** `-q`: nothing but the reference (printed by the CLI) and errors. */
export class QuietRenderer implements Renderer {
  constructor(private readonly options: RendererOptions) {}
  start(): void {}
  update(): void {}
  finish(_state: unknown, outcome: Outcome): void {
    if (outcome.kind === 'failed' && this.options.several !== true) this.options.stream.write(`${errorLine(outcome.error)}\n`);
  }
}
