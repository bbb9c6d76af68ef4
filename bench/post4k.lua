-- wrk script for the "4 KB POST" workload of bench/run.sh.
-- A fixed 4096-byte body: big enough that the proxy must stream a real request body,
-- small enough to stay under nginx's default in-memory client_body_buffer_size, so
-- nginx is not penalised by spilling bodies to its temp dir.
wrk.method = "POST"
wrk.body = string.rep("x", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
