// The listening side of the meals bench: opens many real socket.io-client connections to
// /notifications the way seed 003's frontend does, and prints one JSON line per
// `order.status.changed` a socket receives, with the receive time in epoch milliseconds
// (sub-millisecond precision) and the index of the socket that heard it.
//
//   NODE_PATH=cloud-api/tests/socketio/node_modules node fanout.cjs URL CLIENTS_JSON_FILE
//
// CLIENTS_JSON_FILE: [{"token": "...", "departmentId": 3}, ...]. Prints {"ready": n} once
// every socket is connected, {"error": "..."} if one cannot connect.
const fs = require("fs");
const { performance } = require("perf_hooks");
const { io } = require("socket.io-client");

const [url, file] = process.argv.slice(2);
const clients = JSON.parse(fs.readFileSync(file, "utf8"));
const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const now = () => performance.timeOrigin + performance.now();

let connected = 0;
clients.forEach((client, index) => {
  const socket = io(url + "/notifications", {
    transports: ["websocket"],
    reconnection: false,
    timeout: 20000,
    forceNew: true,
    auth: { token: client.token, departmentId: client.departmentId },
  });
  socket.on("connect", () => {
    connected += 1;
    if (connected === clients.length) out({ ready: connected });
  });
  socket.on("connect_error", (err) => out({ error: `socket ${index}: ${err.message}` }));
  socket.on("order.status.changed", (event) =>
    out({ o: event.orderId, s: event.newStatus, c: index, t: now() }),
  );
});
setTimeout(() => process.exit(0), Number(process.env.FANOUT_LIFETIME_MS || 600000));
