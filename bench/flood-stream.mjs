// Makes an event flood from a real recorded stream: every progress line (Downloading,
// Extracting) is repeated in place until the stream holds about `targetEvents` events, so the
// layers, ids and order are the engine's own and only the progress is denser.
export function floodStream(recorded, targetEvents) {
  const lines = recorded.toString('utf8').split(/\r?\n/).filter((l) => l !== '');
  const isProgress = (l) => /"status":"(Downloading|Extracting)","progressDetail":\{"current"/.test(l);
  const progressCount = lines.filter(isProgress).length;
  const repeat = Math.max(1, Math.round((targetEvents - (lines.length - progressCount)) / progressCount));
  const out = [];
  for (const line of lines) {
    const times = isProgress(line) ? repeat : 1;
    for (let i = 0; i < times; i++) out.push(line);
  }
  return { body: Buffer.from(out.map((l) => `${l}\r\n`).join('')), events: out.length };
}

/**
 * Floods no engine sends but a hostile one could (issue: hardening): `count` messages of 500
 * bytes with no layer id, or `count` layers each with an id of its own. Both end in success.
 */
export function hostileFlood(kind, count) {
  const lines = ['{"status":"Pulling from demo/three","id":"1.0"}'];
  const note = 'x'.repeat(480);
  for (let i = 0; i < count; i++) {
    lines.push(kind === 'messages'
      ? `{"status":"note ${i} ${note}"}`
      : `{"status":"Pulling fs layer","progressDetail":{},"id":"${i.toString(16).padStart(12, '0')}"}`);
  }
  lines.push('{"status":"Status: Downloaded newer image for 127.0.0.1:5731/demo/three:1.0"}');
  return { body: Buffer.from(lines.map((l) => `${l}\r\n`).join('')), events: lines.length };
}
