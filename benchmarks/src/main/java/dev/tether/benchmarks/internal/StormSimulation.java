package dev.tether.benchmarks.internal;

import dev.tether.core.Jitter;
import dev.tether.core.ReconnectPolicy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The simulated storms the suite reports ({@link StormSimulator}): for each client count and refusal,
 * Tether's policy with its default numbers under each jitter mode, decorrelated jitter and HiveMQ's
 * default policy; plus the cross-check against the real-socket storm's model.
 */
final class StormSimulation {

    /** The broker's admission rate in the simulated storms, connections per second. */
    static final double RATE = 10_000;
    /** The simulation stops here; a policy whose clients are not all back by then is reported as such. */
    static final Duration HORIZON = Duration.ofHours(2);
    /** One seed for every storm, so a report can be reproduced exactly. */
    static final long SEED = 20_261_201L;

    private StormSimulation() {
    }

    /** @return the backoffs compared: Tether's defaults with each jitter, decorrelated jitter, HiveMQ's defaults */
    static List<StormSimulator.Backoff> backoffs() {
        ReconnectPolicy defaults = ReconnectPolicy.defaults();
        return List.of(
                StormSimulator.tether("none", defaults.toBuilder().jitter(Jitter.NONE).build()),
                StormSimulator.tether("full", defaults.toBuilder().jitter(Jitter.FULL).build()),
                StormSimulator.tether("equal", defaults.toBuilder().jitter(Jitter.EQUAL).build()),
                StormSimulator.decorrelated(defaults.initialDelay(), defaults.maxDelay()),
                StormSimulator.hivemqDefault());
    }

    /**
     * @param sizes    client counts
     * @param refusals how the broker refuses above its rate
     * @return per storm: sim.&lt;refusal&gt;.&lt;clients&gt;.&lt;backoff&gt;.{all_back_s, ideal_s, over_ideal,
     *         attempts_per_client, max_attempts, peak_over_capacity, not_back, wall_ms}
     */
    static Map<String, Double> run(List<Integer> sizes, List<StormSimulator.Refusal> refusals) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (StormSimulator.Refusal refusal : refusals) {
            for (int n : sizes) {
                for (StormSimulator.Backoff b : backoffs()) {
                    long started = System.nanoTime();
                    StormSimulator.Result r = StormSimulator.run(n, StormSimulator.Broker.limited(RATE, refusal), b, SEED,
                            HORIZON);
                    String key = refusal.label() + "." + n + "." + b.name() + ".";
                    out.put(key + "all_back_s", r.allBackMicros() / 1e6);
                    out.put(key + "ideal_s", r.idealMicros() / 1e6);
                    out.put(key + "over_ideal", r.overIdeal());
                    out.put(key + "attempts_per_client", r.attemptsPerClient());
                    out.put(key + "max_attempts", (double) r.maxAttempts());
                    out.put(key + "peak_over_capacity", r.peakOverCapacity());
                    out.put(key + "not_back", (double) (r.clients() - r.back()));
                    out.put(key + "wall_ms", (System.nanoTime() - started) / 1e6);
                }
            }
        }
        return out;
    }

    /**
     * The real-socket storm's model in virtual time: the same clients, policy and outage (every
     * connection refused for {@link StormWorkload#OUTAGE}, then all admitted), with the loss seen and
     * a refused attempt answered after the times the real run measured, to compare with it.
     *
     * @param jitter  the jitter of the real run
     * @param clients the real storm's client count
     * @param rtt     how long a refused attempt took in the real run (its quantiles)
     * @param detect  when the real clients saw the loss (its quantiles)
     * @param runs    storms simulated (different seeds); medians are reported
     * @return xcheck.&lt;jitter&gt;.{all_back_ms, attempts_per_client, peak_per_100ms}
     */
    static Map<String, Double> crossCheck(Jitter jitter, int clients, StormSimulator.Latency rtt,
                                          StormSimulator.Latency detect, int runs) {
        Map<String, Double> out = new LinkedHashMap<>();
        ReconnectPolicy policy = StormWorkload.policy(jitter);
        List<Double> allBack = new java.util.ArrayList<>();
        List<Double> attempts = new java.util.ArrayList<>();
        List<Double> peak = new java.util.ArrayList<>();
        for (int i = 0; i < runs; i++) {
            StormSimulator.Result r = StormSimulator.run(clients,
                    StormSimulator.Broker.outage(StormWorkload.OUTAGE, rtt, detect),
                    StormSimulator.tether(jitter.name(), policy), SEED + i, HORIZON);
            allBack.add(r.allBackMicros() / 1e3);
            attempts.add(r.attemptsPerClient());
            peak.add((double) r.peakPer100ms());
        }
        String key = "xcheck." + jitter.name().toLowerCase(java.util.Locale.ROOT) + ".";
        out.put(key + "all_back_ms", Stats.median(allBack));
        out.put(key + "attempts_per_client", Stats.median(attempts));
        out.put(key + "peak_per_100ms", Stats.median(peak));
        return out;
    }
}
