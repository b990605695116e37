package dev.tether.benchmarks.internal;

import java.time.Duration;
import java.util.List;

/**
 * How much a run measures: the full suite (the headline) or the quick one (a smoke test).
 *
 * @param quick          the quick suite: a smoke test whose numbers are not the headline
 * @param rounds         the most measured rounds (each contender once per round, in random order)
 * @param minRounds      the least measured rounds, whatever the time budget says
 * @param budget         the run's time budget: a round that would end after it is not started (beyond minRounds)
 * @param payloads       MQTT payload sizes in bytes, QoS 1, for Tether and HiveMQ
 * @param qos0Payloads   MQTT payload sizes in bytes, QoS 0 end to end, for Tether and HiveMQ
 * @param pahoPayloads   the sizes Paho v3 runs (both QoS); Paho v5 runs the first of them only
 * @param window         in-flight window for every contender
 * @param warmup         the least warm-up per scenario, discarded
 * @param warmupMax      the most warm-up per scenario: it ends earlier once throughput is steady
 *                       ({@link SteadyWarmup})
 * @param measure        measured time per scenario
 * @param latencyRate    offered rate of the open-loop latency run, messages per second
 * @param latency        measured time of the latency run
 * @param wsPayload      WebSocket message size in bytes
 * @param trials         resilience trials (cuts, aborts)
 * @param idle           idle connection counts for the memory runs
 * @param stormClients   clients in the real-socket reconnect storm
 * @param serverSessions idle sessions on the Tether WebSocket server
 * @param reconnectRounds rounds of the side-by-side reconnect runs (Tether and HiveMQ once each per round)
 * @param reconnectTrials RST cuts per contender and round in the side-by-side reconnect runs
 * @param stormSizes     client counts of the simulated storm
 */
record Settings(boolean quick, int rounds, int minRounds, Duration budget, List<Integer> payloads, List<Integer> qos0Payloads, List<Integer> pahoPayloads,
                int window, Duration warmup, Duration warmupMax, Duration measure, int latencyRate, Duration latency,
                int wsPayload, int trials, List<Integer> idle, int stormClients, int serverSessions, int reconnectRounds,
                int reconnectTrials, List<Integer> stormSizes) {

    static final int WINDOW = 100;

    static Settings full() {
        return new Settings(false, 10, 4, Duration.ofSeconds(810), List.of(16, 100, 1024, 64 * 1024), List.of(16, 100, 1024),
                List.of(100, 1024), WINDOW, Duration.ofMillis(400), Duration.ofMillis(1500), Duration.ofMillis(2000), 2000,
                Duration.ofMillis(1500), 100, 20, List.of(5000), 500, 10_000, 6, 10,
                List.of(10_000, 100_000, 1_000_000));
    }

    static Settings quickRun() {
        return new Settings(true, 3, 3, Duration.ofMinutes(10), List.of(100, 1024), List.of(100, 1024), List.of(100, 1024),
                WINDOW,
                Duration.ofMillis(300), Duration.ofMillis(1000), Duration.ofMillis(700), 1000, Duration.ofMillis(1500), 100,
                5, List.of(1000), 100, 1000, 3, 6, List.of(10_000));
    }

    /**
     * @param contender a contender id
     * @param qos0      the QoS 0 end-to-end sizes (else QoS 1)
     * @return the payload sizes that contender runs
     */
    List<Integer> payloadsFor(String contender, boolean qos0) {
        return switch (contender) {
            case "paho3" -> pahoPayloads;
            case "paho5" -> pahoPayloads.subList(0, 1);
            default -> qos0 ? qos0Payloads : payloads;
        };
    }

    /**
     * @return the most warm-up of the WebSocket streaming scenario: its contender JVMs run that one scenario from
     *     cold, their JIT compilers sharing the pinned core with them for seconds, so within {@link #warmupMax()}
     *     few warm-ups became steady and the row measured the compilers as much as the clients (docs/benchmarks.md,
     *     'WebSocket streaming'); it gets 2.5 s more, the same for both clients
     */
    Duration wsWarmupMax() {
        return warmupMax.plusMillis(2500);
    }

    /**
     * @return how many times each idle count runs per contender (interleaved, in random order): idle RSS moved from
     *     0.61x to 1.72x HiveMQ's between single runs, so one run cannot give an interval; the full run measures 5,000
     *     connections only (the goal's count), so that the three runs leave the budget room for a fifth round
     */
    int idleRuns() {
        return quick ? 1 : 3;
    }

    /** @return every size some contender runs, QoS 1 or QoS 0 */
    List<Integer> allPayloads() {
        java.util.TreeSet<Integer> all = new java.util.TreeSet<>(payloads);
        all.addAll(qos0Payloads);
        all.addAll(pahoPayloads);
        return List.copyOf(all);
    }

    /** @return a generous bound on one contender JVM's whole run */
    Duration contenderTimeout() {
        return warmupMax.plus(measure).plusSeconds(10).multipliedBy(2L * allPayloads().size() + 4)
                .plus(latency.multipliedBy(2)).plusSeconds(60);
    }
}
