package dev.tether.benchmarks.internal;

import dev.tether.core.FailureClassifier;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.Verdict;
import dev.tether.mqtt.MqttVerdicts;
import dev.tether.mqtt.MqttVersion;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A reconnect storm in virtual time: {@code N} clients lose a broker at the same instant and come
 * back against a broker model that admits at most {@code C} connections per second. No sockets and
 * no threads: one event queue (a binary heap of attempt times) and a few arrays of per-client state,
 * so a million clients take seconds.
 *
 * <p>Tether's clients compute every delay with the real {@link ReconnectPolicy#delay(int, double)}
 * and the real verdicts ({@link MqttVerdicts#forConnack} for CONNACK 0x9F and 0x89,
 * {@link FailureClassifier#defaults()} for a refused TCP connection), and apply a verdict's minimum
 * delay the way the engine does: the delay is the larger of the two. The session loss that starts the
 * storm is failure 1 of the streak. Other policies (decorrelated jitter, HiveMQ's client) are modelled
 * here from their published formulas.
 *
 * <p>The broker: down for an outage (every attempt refused at the TCP level), then a token bucket of
 * {@code C} per second with a burst of {@link Broker#burst()}; an attempt that finds no token is refused
 * with the broker's refusal (CONNACK 0x9F, 0x89, or a refused TCP connection). An attempt's answer
 * arrives one round trip after it was made; the next delay starts then.
 */
final class StormSimulator {

    /**
     * The most attempts one storm simulates per client on average: a policy that keeps every client in lock
     * step (no jitter) against a slow broker would otherwise take minutes to simulate; such a storm stops
     * there and counts the clients not back.
     */
    static final int ATTEMPT_BUDGET_PER_CLIENT = 20;

    /** Length of the buckets attempts are counted in. */
    static final long BUCKET_MICROS = 100_000;

    private StormSimulator() {
    }

    /** How a broker refuses a connection above its rate. */
    enum Refusal {
        /** CONNACK 0x9F, connection rate exceeded (MQTT 5). */
        RATE_EXCEEDED_0X9F("0x9F"),
        /** CONNACK 0x89, server busy (MQTT 5). */
        SERVER_BUSY_0X89("0x89"),
        /** The TCP connection is refused (or reset at once). */
        CONNECTION_REFUSED("refused");

        private final String label;

        Refusal(String label) {
            this.label = label;
        }

        /** @return a short name for reports */
        String label() {
            return label;
        }

        /** @return the verdict Tether's MQTT client gives this refusal */
        Verdict verdict() {
            return switch (this) {
                case RATE_EXCEEDED_0X9F -> MqttVerdicts.forConnack(MqttVersion.MQTT_5, 0x9F);
                case SERVER_BUSY_0X89 -> MqttVerdicts.forConnack(MqttVersion.MQTT_5, 0x89);
                case CONNECTION_REFUSED -> refusedVerdict();
            };
        }
    }

    private static Verdict refusedVerdict() {
        return FailureClassifier.defaults().classify(new ConnectException("Connection refused")).orElse(Verdict.retry());
    }

    /**
     * The broker model.
     *
     * @param perSecond connections admitted per second once it is up ({@link Double#POSITIVE_INFINITY}: no limit)
     * @param burst     the token bucket's size: how many it admits at once after a quiet spell
     * @param outage    how long it refuses everything (TCP) from the start of the storm
     * @param refusal   how it refuses above its rate
     * @param rtt       the time from an attempt to its answer, drawn per attempt
     * @param detect    when each client notices the loss (its first delay starts then), drawn per client
     */
    record Broker(double perSecond, double burst, Duration outage, Refusal refusal, Latency rtt, Latency detect) {

        /**
         * @param perSecond connections admitted per second
         * @param refusal   how it refuses above that
         * @return up at once, a burst of 100 ms worth, 1 ms round trip, the loss seen at once
         */
        static Broker limited(double perSecond, Refusal refusal) {
            return new Broker(perSecond, Math.max(1, perSecond / 10), Duration.ZERO, refusal,
                    Latency.fixed(Duration.ofMillis(1)), Latency.fixed(Duration.ZERO));
        }

        /**
         * @param outage how long every attempt is refused
         * @param rtt    the time from an attempt to its answer
         * @param detect when the clients notice the loss
         * @return a broker that refuses TCP connections for the outage and then admits everyone
         */
        static Broker outage(Duration outage, Latency rtt, Latency detect) {
            return new Broker(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, outage, Refusal.CONNECTION_REFUSED, rtt,
                    detect);
        }
    }

    /** A time drawn at random: fixed, or from measured quantiles. */
    interface Latency {

        /**
         * @param random this simulation's random numbers
         * @return a time in microseconds
         */
        long drawMicros(SplittableRandom random);

        /**
         * @param d the time
         * @return always {@code d}
         */
        static Latency fixed(Duration d) {
            long micros = d.toNanos() / 1000;
            return random -> micros;
        }

        /**
         * @param quantilesMs measured times in milliseconds at evenly spaced quantiles (e.g. 5 %, 10 %, ..., 95 %),
         *                    ascending
         * @return times drawn from the piecewise linear distribution through those quantiles
         */
        static Latency empirical(double[] quantilesMs) {
            double[] q = quantilesMs.clone();
            Arrays.sort(q);
            if (q.length == 0) {
                throw new IllegalArgumentException("empirical latency needs at least one quantile");
            }
            return random -> (long) (Stats.percentile(q, random.nextDouble()) * 1000);
        }
    }

    /** How a client waits between attempts. */
    interface Backoff {

        /** @return the name in reports */
        String name();

        /**
         * @param failures     failures in the streak so far, at least 1
         * @param previous     the delay before the failed attempt, in microseconds (0 before the first)
         * @param verdict      the verdict of the last failure
         * @param random       this simulation's random numbers
         * @return the delay before the next attempt, in microseconds
         */
        long delayMicros(int failures, long previous, Verdict verdict, SplittableRandom random);
    }

    /**
     * @param name   the name in reports
     * @param policy a Tether policy
     * @return its delays, computed by the policy itself, at least the verdict's minimum (as the engine does)
     */
    static Backoff tether(String name, ReconnectPolicy policy) {
        return new Backoff() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public long delayMicros(int failures, long previous, Verdict verdict, SplittableRandom random) {
                Duration d = policy.delay(failures, random.nextDouble());
                if (d.compareTo(verdict.minimumDelay()) < 0) {
                    d = verdict.minimumDelay();
                }
                return d.toNanos() / 1000;
            }
        };
    }

    /**
     * Decorrelated jitter (each delay uniform between the base and three times the previous delay,
     * capped), with the verdict's minimum applied as Tether's engine would. Not one of Tether's
     * {@code Jitter} modes: simulated to compare.
     *
     * @param base the least delay and the first bound
     * @param cap  the largest delay
     * @return the backoff
     */
    static Backoff decorrelated(Duration base, Duration cap) {
        long baseMicros = base.toNanos() / 1000;
        long capMicros = cap.toNanos() / 1000;
        return new Backoff() {
            @Override
            public String name() {
                return "decorrelated";
            }

            @Override
            public long delayMicros(int failures, long previous, Verdict verdict, SplittableRandom random) {
                long high = Math.max(baseMicros + 1, Math.min(capMicros, Math.max(baseMicros, previous) * 3));
                long d = Math.min(capMicros, baseMicros + (long) (random.nextDouble() * (high - baseMicros)));
                return Math.max(d, verdict.minimumDelay().toNanos() / 1000);
            }
        };
    }

    /**
     * HiveMQ's client with {@code automaticReconnect()} defaults: 1 s doubling to 120 s, each delay
     * randomised by ±25 %; it reconnects on its own schedule whatever the CONNACK reason code.
     *
     * @return the backoff
     */
    static Backoff hivemqDefault() {
        return new Backoff() {
            @Override
            public String name() {
                return "hivemq";
            }

            @Override
            public long delayMicros(int failures, long previous, Verdict verdict, SplittableRandom random) {
                double bound = Math.min(120e6, 1e6 * Math.pow(2, Math.min(30, failures - 1)));
                return (long) (bound * (0.75 + 0.5 * random.nextDouble()));
            }
        };
    }

    /**
     * What one storm came to.
     *
     * @param clients          N
     * @param back             how many were connected again by the horizon
     * @param allBackMicros    when the last one was back (the horizon if some never were)
     * @param idealMicros      N/C, the least time the broker's rate allows (0 without a rate)
     * @param attempts         connection attempts in all
     * @param maxAttempts      the most attempts one client made
     * @param peakPer100ms     the most attempts in one 100 ms bucket
     * @param peakPerSecond    the most attempts in one second (ten aligned buckets)
     * @param perSecond        the broker's rate C
     */
    record Result(int clients, int back, long allBackMicros, double idealMicros, long attempts, int maxAttempts,
                  int peakPer100ms, long peakPerSecond, double perSecond) {

        /** @return attempts per client */
        double attemptsPerClient() {
            return (double) attempts / clients;
        }

        /** @return time until all were back over N/C (NaN without a rate) */
        double overIdeal() {
            return idealMicros > 0 ? allBackMicros / idealMicros : Double.NaN;
        }

        /** @return the busiest second's attempts over the broker's rate (NaN without a rate) */
        double peakOverCapacity() {
            return Double.isFinite(perSecond) ? peakPerSecond / perSecond : Double.NaN;
        }
    }

    /**
     * Runs one storm.
     *
     * @param n       clients, all connected until the storm starts at time 0
     * @param broker  the broker model
     * @param backoff how the clients wait
     * @param seed    the random seed: the same seed gives the same storm
     * @param horizon the simulation stops here (or after {@link #ATTEMPT_BUDGET_PER_CLIENT} attempts per client);
     *                clients not back by then are counted as not back
     * @return the result
     */
    static Result run(int n, Broker broker, Backoff backoff, long seed, Duration horizon) {
        if (n < 1) {
            throw new IllegalArgumentException("clients must be at least 1, but was " + n);
        }
        if (!(broker.perSecond() > 0) || !(broker.burst() >= 1)) {
            throw new IllegalArgumentException("the broker must admit a positive rate with a burst of at least 1, but was "
                    + broker);
        }
        SplittableRandom random = new SplittableRandom(seed);
        long horizonMicros = horizon.toNanos() / 1000;
        long outageMicros = broker.outage().toNanos() / 1000;
        Verdict lost = Verdict.retry();
        Verdict refusedDown = refusedVerdict();
        Verdict refusedBusy = broker.refusal().verdict();
        int[] failures = new int[n];
        long[] previous = new long[n];
        int[] attemptsOf = new int[n];
        Heap heap = new Heap(n);
        for (int i = 0; i < n; i++) {
            failures[i] = 1;
            long d = backoff.delayMicros(1, 0, lost, random);
            previous[i] = d;
            heap.push(broker.detect().drawMicros(random) + d, i);
        }
        double tokens = broker.burst();
        long refilledAt = outageMicros;
        double perMicro = broker.perSecond() / 1e6;
        int[] buckets = new int[1024];
        long attempts = 0;
        int back = 0;
        long lastBack = 0;
        int maxAttempts = 0;
        long budget = (long) ATTEMPT_BUDGET_PER_CLIENT * n;
        long stoppedAt = horizonMicros;
        while (heap.size() > 0) {
            long t = heap.peekTime();
            if (t > horizonMicros) {
                break;
            }
            if (attempts >= budget) {
                stoppedAt = t;
                break;
            }
            int id = heap.pop();
            attempts++;
            attemptsOf[id]++;
            maxAttempts = Math.max(maxAttempts, attemptsOf[id]);
            int bucket = (int) (t / BUCKET_MICROS);
            if (bucket >= buckets.length) {
                buckets = Arrays.copyOf(buckets, Math.max(bucket + 1, buckets.length * 2));
            }
            buckets[bucket]++;
            Verdict verdict = null;
            if (t < outageMicros) {
                verdict = refusedDown;
            } else {
                if (Double.isFinite(perMicro)) {
                    tokens = Math.min(broker.burst(), tokens + (t - refilledAt) * perMicro);
                    refilledAt = t;
                }
                if (tokens >= 1) {
                    if (Double.isFinite(perMicro)) {
                        tokens -= 1;
                    }
                    back++;
                    lastBack = Math.max(lastBack, t + broker.rtt().drawMicros(random));
                } else {
                    verdict = refusedBusy;
                }
            }
            if (verdict != null) {
                failures[id]++;
                long d = backoff.delayMicros(failures[id], previous[id], verdict, random);
                previous[id] = d;
                heap.push(t + broker.rtt().drawMicros(random) + d, id);
            }
        }
        int peak100 = 0;
        long peakSecond = 0;
        long window = 0;
        for (int b = 0; b < buckets.length; b++) {
            peak100 = Math.max(peak100, buckets[b]);
            window += buckets[b] - (b >= 10 ? buckets[b - 10] : 0);
            peakSecond = Math.max(peakSecond, window);
        }
        double ideal = Double.isFinite(broker.perSecond()) ? n / broker.perSecond() * 1e6 : 0;
        return new Result(n, back, back == n ? lastBack : stoppedAt, ideal, attempts, maxAttempts, peak100, peakSecond,
                broker.perSecond());
    }

    /** A binary min-heap of (time, client) in two arrays: no object per event. */
    private static final class Heap {
        private long[] times;
        private int[] ids;
        private int size;

        Heap(int capacity) {
            times = new long[Math.max(1, capacity)];
            ids = new int[Math.max(1, capacity)];
        }

        int size() {
            return size;
        }

        long peekTime() {
            return times[0];
        }

        void push(long time, int id) {
            if (size == times.length) {
                times = Arrays.copyOf(times, size * 2);
                ids = Arrays.copyOf(ids, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (times[parent] <= time) {
                    break;
                }
                times[i] = times[parent];
                ids[i] = ids[parent];
                i = parent;
            }
            times[i] = time;
            ids[i] = id;
        }

        int pop() {
            int top = ids[0];
            size--;
            if (size > 0) {
                long time = times[size];
                int id = ids[size];
                int i = 0;
                while (true) {
                    int child = 2 * i + 1;
                    if (child >= size) {
                        break;
                    }
                    if (child + 1 < size && times[child + 1] < times[child]) {
                        child++;
                    }
                    if (times[child] >= time) {
                        break;
                    }
                    times[i] = times[child];
                    ids[i] = ids[child];
                    i = child;
                }
                times[i] = time;
                ids[i] = id;
            }
            return top;
        }
    }
}
