package dev.tether.benchmarks.internal;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Idle cost of many connections in one JVM: heap after a full collection, resident memory and
 * threads, measured after the first connection and after the last; the difference per connection. Also the
 * bytes allocated per connect on the way.
 */
final class IdleWorkload {

    private IdleWorkload() {
    }

    static Map<String, Double> run(String driver, String host, int port, int connections) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<MqttDriver> clients = new ArrayList<>();
        try {
            MqttDriver first = MqttDriver.load(driver);
            first.connect(host, port, "bench-idle-" + run + "-0", 10);
            clients.add(first);
            double[] base = sample();
            Probe before = Probe.now();
            for (int i = 1; i < connections; i++) {
                MqttDriver c = MqttDriver.load(driver);
                c.connect(host, port, "bench-idle-" + run + "-" + i, 10);
                clients.add(c);
            }
            Probe after = Probe.now();
            double[] all = sample();
            int added = connections - 1;
            Map<String, Double> result = new LinkedHashMap<>();
            result.put("heap_bytes_per_conn", (all[0] - base[0]) / added);
            result.put("rss_bytes_per_conn", (all[1] - base[1]) / added);
            result.put("threads_per_conn", (all[2] - base[2]) / added);
            // Garbage and live objects alike: what the heap took per connect, which is what RSS follows before the
            // heap's pages have all been touched once (a lower bound: threads that ended are not counted).
            result.put("alloc_bytes_per_connect", before.bytesPerOperation(after, added));
            result.put("threads_total", all[2]);
            return result;
        } finally {
            for (MqttDriver c : clients) {
                try {
                    c.close();
                } catch (Exception e) {
                    // Closing is not measured; the process ends right after.
                }
            }
        }
    }

    /** @return heap used after collection, RSS, live threads */
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
        return new double[]{heap, rss, ManagementFactory.getThreadMXBean().getThreadCount()};
    }
}
