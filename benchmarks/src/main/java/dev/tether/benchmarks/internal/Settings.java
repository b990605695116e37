package dev.tether.benchmarks.internal;

import java.time.Duration;
import java.util.List;

/**
 * How much a run measures: the full suite or the quick one.
 *
 * @param quick        the quick suite
 * @param rounds       measured rounds (each contender once per round, in random order)
 * @param payloads     MQTT payload sizes in bytes
 * @param window       in-flight window for every contender
 * @param warmup       warm-up per scenario, discarded
 * @param measure      measured time per scenario
 * @param latencyRate  offered rate of the open-loop latency run, messages per second
 * @param latency      measured time of the latency run
 * @param wsPayload    WebSocket message size in bytes
 * @param trials       resilience trials (cuts, aborts)
 * @param idle         idle connection counts for the memory runs
 * @param stormClients clients in the reconnect storm
 * @param serverSessions idle sessions on the Tether WebSocket server
 */
record Settings(boolean quick, int rounds, List<Integer> payloads, int window, Duration warmup, Duration measure,
                int latencyRate, Duration latency, int wsPayload, int trials, List<Integer> idle, int stormClients,
                int serverSessions) {

    static final int WINDOW = 100;

    static Settings full() {
        return new Settings(false, 5, List.of(16, 100, 1024, 64 * 1024), WINDOW, Duration.ofMillis(500),
                Duration.ofMillis(1500), 2000, Duration.ofSeconds(3), 100, 20, List.of(1000, 5000), 500, 10_000);
    }

    static Settings quickRun() {
        return new Settings(true, 3, List.of(100, 1024), WINDOW, Duration.ofMillis(300), Duration.ofMillis(700),
                1000, Duration.ofMillis(1500), 100, 5, List.of(1000), 100, 1000);
    }

    /** @return a generous bound on one contender JVM's whole run */
    Duration contenderTimeout() {
        return warmup.plus(measure).plusSeconds(10).multipliedBy(2L * payloads.size() + 2).plus(latency.multipliedBy(2))
                .plusSeconds(60);
    }
}
