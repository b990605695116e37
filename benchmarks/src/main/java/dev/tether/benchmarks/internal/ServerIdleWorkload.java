package dev.tether.benchmarks.internal;

import dev.tether.websocket.DrainReport;
import dev.tether.websocket.WebSocketServer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs in a JVM of its own: a Tether WebSocket server whose sessions the harness opens from
 * outside. Announces its port with a {@code PORT <n>} line, waits until the registry holds the
 * expected sessions, measures heap and RSS per session, then stops the server and times the drain.
 */
final class ServerIdleWorkload {

    static final Duration TIMEOUT = Duration.ofMinutes(2);
    static final String PORT_LINE = "PORT";

    private ServerIdleWorkload() {
    }

    static Map<String, Double> run(int sessions) throws IOException {
        WebSocketServer server = WebSocketServer.builder()
                .host("127.0.0.1")
                .path("/idle")
                .handler(s -> s.receive().then())
                // Every session comes from 127.0.0.1 as fast as the harness can open them: lift the
                // per-address and total limits just enough, and the connect rate limit.
                .maxSessions(sessions + 100)
                .maxSessionsPerAddress(sessions + 100)
                .connectRateLimiter(null)
                .build();
        server.start().block(Duration.ofSeconds(10));
        double[] base = sample();
        System.out.println(PORT_LINE + " " + server.port());
        System.out.flush();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (server.sessions().count() < sessions) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + server.sessions().count() + " of " + sessions
                        + " sessions opened within " + TIMEOUT);
            }
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
        double[] all = sample();
        DrainReport drain = server.stop().block(TIMEOUT);
        Map<String, Double> result = new LinkedHashMap<>();
        result.put("heap_bytes_per_session", (all[0] - base[0]) / sessions);
        result.put("rss_bytes_per_session", (all[1] - base[1]) / sessions);
        if (drain != null) {
            result.put("drain_ms", (double) drain.took().toMillis());
            result.put("drain_sessions", (double) drain.sessions());
            result.put("drain_closed_cleanly", (double) drain.closedCleanly());
            result.put("drain_aborted", (double) drain.aborted());
        }
        return result;
    }

    private static double[] sample() throws IOException {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        double heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        double rss = Double.NaN;
        Path status = Path.of("/proc/self/status");
        if (Files.isReadable(status)) {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024.0;
                }
            }
        }
        return new double[]{heap, rss};
    }
}
