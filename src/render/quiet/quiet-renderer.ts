import type { Renderer } from '../renderer.js';

/** `-q`: nothing but the reference (printed by the CLI) and errors. */
export class QuietRenderer implements Renderer {
  start(): void {}
  update(): void {}
  finish(): void {}
}
