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
