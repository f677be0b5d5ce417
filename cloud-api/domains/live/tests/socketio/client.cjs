// A real socket.io-client for the ChatMe tests: connects to URL + "/chatme" with the token
// in `auth.token`, prints one JSON line per thing that happens, and reads commands from
// stdin, one JSON line each:
//   {"id": 1, "emit": "live:join", "data": {...}}  → emits with an ack, prints {"type":"ack","id":1,"data":…}
//   {"close": true}                                 → closes the socket cleanly and exits
// Killing the process drops the connection without a goodbye.
//
//   NODE_PATH=…/node_modules node client.cjs URL TOKEN
const { io } = require("socket.io-client");
const readline = require("readline");

const [url, token] = process.argv.slice(2);
const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const socket = io(url + "/chatme", {
  transports: ["websocket"],
  reconnection: false,
  timeout: 5000,
  auth: token ? { token } : {},
});
socket.on("connect", () => out({ type: "connected" }));
socket.on("connect_error", (err) => {
  out({ type: "connect_error", message: err.message });
  process.exit(0);
});
socket.on("disconnect", (reason) => out({ type: "disconnect", reason }));
socket.onAny((event, data) => out({ type: "event", event, data }));

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.close) {
    socket.close();
    setTimeout(() => process.exit(0), 50);
    return;
  }
  socket.emit(command.emit, command.data, (answer) =>
    out({ type: "ack", id: command.id, data: answer }),
  );
});
