import { preparePull, pullTarget, type PreparedPull, type PullOptions } from '../pull/pull.js';
import { formatReference } from '../reference/reference.js';
import { conflictingHostAndContext } from '../engine/engine-resolution.js';
import { sanitize } from '../sanitize.js';
import { usageError } from '../errors.js';
import type { PullLabel } from '../render/renderer-interface.js';

/** One pull of a run: an image on an engine. */
export interface PlannedPull {
  /** The image as the user named it, fit to print. */
  image: string;
  /** The engine as the user named it (-H address or context name), when the run has several. */
  engineName?: string;
  prepared: PreparedPull;
  /** The library's options for this pull: the run's, with this engine. */
  options: PullOptions;
}

/** Where to pull: each -H, or each --context, or (neither given) the one engine found as the docker CLI finds it. */
function engineChoices(hosts: string[], contexts: string[]): { name?: string; choice: PullOptions }[] {
  if (hosts.length > 0 && contexts.length > 0) throw conflictingHostAndContext();
  if (hosts.length > 0) return hosts.map((host) => ({ name: sanitize(host), choice: { host } }));
  if (contexts.length > 0) return contexts.map((context) => ({ name: sanitize(context), choice: { context } }));
  return [{ choice: {} }];
}

/**
 * Every image on every engine, in the order given (image by image, each on every engine). All
 * are checked before anything is pulled: a bad reference or engine is a usage error for the whole
 * run. Each pull is made once: images that name the same reference, and engines at the same
 * address, are one.
 */
export function planPulls(images: string[], engines: { hosts: string[]; contexts: string[] }, shared: PullOptions): PlannedPull[] {
  const choices = engineChoices(engines.hosts, engines.contexts);
  const plans: PlannedPull[] = [];
  const seen = new Set<string>();
  for (const image of images) {
    for (const { name, choice } of choices) {
      const options: PullOptions = { ...shared, ...choice };
      const prepared = preparePull(image, options);
      const key = `${pullTarget(prepared)}\n${formatReference(prepared.reference)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      plans.push({ image: sanitize(image), ...(name !== undefined && { engineName: name }), prepared, options });
    }
  }
  if (shared.namespace !== undefined && !plans.some((p) => p.prepared.engine?.kind === 'containerd')) {
    throw usageError('--namespace is for containerd engines, and none is named (-H containerd:///run/containerd/containerd.sock)');
  }
  const severalEngines = new Set(plans.map((p) => p.prepared.engine?.url)).size > 1;
  return severalEngines ? plans : plans.map(({ engineName: _, ...plan }) => plan);
}

/** How a planned pull is named on screen and in logs, and the reference it prints. */
export function pullLabel(plan: PlannedPull): PullLabel {
  return {
    label: plan.image,
    reference: formatReference(plan.prepared.reference),
    ...(plan.engineName !== undefined && { engine: plan.engineName }),
  };
}
