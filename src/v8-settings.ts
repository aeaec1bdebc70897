// The command's V8 settings for a pull from a registry, made by bin/v8-settings.js and handed to
// the command's main(). A library's host process keeps its own: nothing is set unless the command
// gave a way to.

let forRegistryPull: (() => void) | undefined;

/** The command's way to switch to a registry pull's settings. */
export function setRegistryPullSettings(use: (() => void) | undefined): void {
  forRegistryPull = use;
}

/**
 * The command streams from an engine too (`-H tcp://… -H containerd://…`): the settings are one
 * per process, and an engine's flood needs the optimizing compiler (570 000 events: 1.4 s of CPU
 * with it, 7.7 s without), so a registry pull beside it keeps V8's.
 */
export function keepSettingsForEngineStreams(): void {
  forRegistryPull = undefined;
}

/** A pull from a registry starts: the command's settings for it, if there are any. */
export function useRegistryPullSettings(): void {
  forRegistryPull?.();
}
