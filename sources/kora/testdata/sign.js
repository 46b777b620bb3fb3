// Signs Kora webhook bodies the way Kora's webhook guide verifies them
// (developers.korapay.com/docs/webhooks):
//
//   crypto.createHmac('sha256', secretKey).update(JSON.stringify(req.body.data)).digest('hex')
//
// Input: one JSON object per line on stdin, {"key": "...", "body": "<raw body text>"}.
// Output: one JSON object per line, {"signature": hex, "data": JSON.stringify(body.data),
// "sent": JSON.stringify(body)} — "sent" is the body as a Node server (Kora's) would
// send the parsed event.
const crypto = require('crypto');
const readline = require('readline');

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  const { key, body } = JSON.parse(line);
  const parsed = JSON.parse(body); // what express.json() gives req.body
  const data = JSON.stringify(parsed.data);
  const signature = crypto.createHmac('sha256', key).update(data).digest('hex');
  process.stdout.write(JSON.stringify({ signature, data, sent: JSON.stringify(parsed) }) + '\n');
});
