// The viewers of the ChatMe fan-out bench: many real socket.io-client connections to
// /chatme, each joining one live room (`live:join`), printing one JSON line per
// `live:gift-received` heard, with the receive time in epoch milliseconds and the socket's
// index.
//
//   NODE_PATH=cloud-api/tests/socketio/node_modules node fanout.cjs URL ROOM TOKENS_JSON_FILE SOCKETS
//
// TOKENS_JSON_FILE: ["token", ...], used in turn. Prints {"ready": n} once every socket has
// joined, {"error": "..."} when one cannot.
const fs = require("fs");
const { performance } = require("perf_hooks");
const { io } = require("socket.io-client");

const [url, room, file, count] = process.argv.slice(2);
const tokens = JSON.parse(fs.readFileSync(file, "utf8"));
const sockets = Number(count);
const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const now = () => performance.timeOrigin + performance.now();

let joined = 0;
for (let index = 0; index < sockets; index += 1) {
  const socket = io(url + "/chatme", {
    transports: ["websocket"],
    reconnection: false,
    timeout: 30000,
    forceNew: true,
    auth: { token: tokens[index % tokens.length] },
  });
  socket.on("connect", () =>
    socket.emit("live:join", { roomId: room }, () => {
      joined += 1;
      if (joined === sockets) out({ ready: joined });
    }),
  );
  socket.on("connect_error", (err) => out({ error: `socket ${index}: ${err.message}` }));
  socket.on("live:gift-received", (event) => out({ g: event.gift && event.gift.id, c: index, t: now() }));
}
setTimeout(() => process.exit(0), Number(process.env.FANOUT_LIFETIME_MS || 600000));
