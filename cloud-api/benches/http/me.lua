-- wrk -s me.lua: GET /api/auth/me with ACCESS_TOKEN from the environment (JWT check + a
-- primary-key read).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ACCESS_TOKEN")
