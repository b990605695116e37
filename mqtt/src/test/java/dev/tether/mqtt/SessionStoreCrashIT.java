package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.ReconnectPolicy;
import dev.tether.mqtt.test.HiveMqBroker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;

/**
 * A publisher in a child JVM with a durable session store is killed ({@code Process.destroyForcibly}, SIGKILL)
 * at random points while it publishes, and restarted on the same store, against HiveMQ CE; an independent
 * subscriber counts what arrives. Every message the child reported accepted must arrive: QoS 1 none lost,
 * QoS 2 none lost and none twice. Rounds per QoS: {@code -Dtether.storeCrashRounds=N} (default 3; the issue's
 * long run is 20).
 */
class SessionStoreCrashIT {

    private static final Duration LINE_TIMEOUT = Duration.ofSeconds(60);
    private static HiveMqBroker broker;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() {
        broker = HiveMqBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void killedPublisherLosesNothingAcceptedAndQos2DeliversOnce(int qosValue) throws Exception {
        MqttQos qos = MqttQos.of(qosValue);
        int rounds = Integer.getInteger("tether.storeCrashRounds", 3);
        long seed = Long.getLong("tether.storeCrashSeed", System.nanoTime());
        Random random = new Random(seed);
        Map<Long, AtomicInteger> received = new ConcurrentHashMap<>();
        Object arrival = new Object();
        MqttClient sub = MqttClient.builder().endpoint(broker.tcpUri()).clientId("crash-sub-" + qosValue)
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(500)).build())
                .build().start();
        AtomicInteger subscribed = new AtomicInteger();
        Disposable notices = sub.lifecycle().subscribe(e -> {
            if (e instanceof dev.tether.core.LifecycleEvent.Notice n && n.kind().equals("subscribed")) {
                synchronized (arrival) {
                    subscribed.incrementAndGet();
                    arrival.notifyAll();
                }
            }
        });
        Disposable counting = sub.subscribe("store/crash/" + qosValue, qos).subscribe(m -> {
            received.computeIfAbsent(Long.parseLong(m.payloadAsString()), k -> new AtomicInteger()).incrementAndGet();
            synchronized (arrival) {
                arrival.notifyAll();
            }
        });
        try {
            awaitCondition(arrival, () -> subscribed.get() > 0, Duration.ofSeconds(20), "the subscriber's SUBACK");
            Path store = dir.resolve("publisher.mv");
            String clientId = "crash-pub-" + qosValue;
            Set<Long> accepted = ConcurrentHashMap.newKeySet();
            List<String> resends = new ArrayList<>();
            long started = System.nanoTime();
            for (int round = 0; round < rounds; round++) {
                long first = (round + 1) * 10_000_000L;
                // Kill at once after connecting (while the store's leftovers are resent) in some rounds, else
                // after a random number of accepted messages.
                int killAfter = random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(1500);
                Child child = Child.start(broker.tcpUri(), clientId, store, qosValue, first, 1_000_000,
                        dir.resolve("child-" + round + ".err"));
                try {
                    long roundStart = System.nanoTime();
                    child.awaitLine(l -> l.startsWith("CONNECTED"), accepted, resends);
                    System.out.printf("store crash test QoS %d: round %d connected after %d ms%n", qosValue, round,
                            (System.nanoTime() - roundStart) / 1_000_000);
                    if (killAfter > 0) {
                        int[] seen = {0};
                        child.awaitLine(l -> l.startsWith("A ") && ++seen[0] >= killAfter, accepted, resends);
                    }
                } finally {
                    child.kill(accepted, resends);
                }
                System.out.printf("store crash test QoS %d: round %d killed after %d accepted at %d ms%n", qosValue,
                        round, killAfter, (System.nanoTime() - started) / 1_000_000);
            }
            Child last = Child.start(broker.tcpUri(), clientId, store, qosValue, 0, 0, dir.resolve("child-last.err"));
            try {
                last.awaitLine(l -> l.equals("DONE"), accepted, resends);
            } finally {
                last.kill(accepted, resends);
            }
            System.out.printf("store crash test QoS %d: the last run finished at %d ms%n", qosValue,
                    (System.nanoTime() - started) / 1_000_000);
            awaitCondition(arrival, () -> received.keySet().containsAll(accepted), Duration.ofSeconds(60),
                    "every accepted message at the subscriber");
            Set<Long> lost = new java.util.TreeSet<>(accepted);
            lost.removeAll(received.keySet());
            Map<Long, Integer> twice = new TreeMap<>();
            received.forEach((n, c) -> {
                if (c.get() > 1) {
                    twice.put(n, c.get());
                }
            });
            System.out.printf("store crash test QoS %d: seed %d, %d rounds, %d accepted, %d received, %d lost, "
                    + "%d received more than once, resend notices %s%n", qosValue, seed, rounds, accepted.size(),
                    received.size(), lost.size(), twice.size(), resends);
            assertThat(accepted).as("accepted messages (seed %d)", seed).isNotEmpty();
            assertThat(lost).as("accepted messages lost (seed %d)", seed).isEmpty();
            if (qos == MqttQos.EXACTLY_ONCE) {
                assertThat(twice).as("QoS 2 messages delivered more than once (seed %d)", seed).isEmpty();
            }
        } finally {
            counting.dispose();
            notices.dispose();
            sub.close().block(Duration.ofSeconds(10));
        }
    }

    private static void awaitCondition(Object monitor, java.util.function.BooleanSupplier done, Duration timeout,
                                       String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (monitor) {
            while (!done.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("timed out after " + timeout + " waiting for " + what);
                }
                TimeUnit.NANOSECONDS.timedWait(monitor, left);
            }
        }
    }

    /** A child JVM running {@link SessionStoreChild}, its output read line by line. */
    private static final class Child {
        private static final String EOF = "\u0000EOF";
        private final Process process;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final Path errors;

        private Child(Process process, Path errors) {
            this.process = process;
            this.errors = errors;
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String l = in.readLine(); l != null; l = in.readLine()) {
                        lines.add(l);
                    }
                } catch (IOException e) {
                    // The process is gone; what was read is in the queue.
                } finally {
                    lines.add(EOF);
                }
            }, "crash-child-reader");
            reader.setDaemon(true);
            reader.start();
        }

        static Child start(String uri, String clientId, Path store, int qos, long first, long count, Path errors)
                throws IOException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                    SessionStoreChild.class.getName(), uri, clientId, store.toString(), Integer.toString(qos),
                    Long.toString(first), Long.toString(count));
            pb.redirectError(errors.toFile());
            return new Child(pb.start(), errors);
        }

        /** Reads lines (recording accepted numbers and resend notices) until one matches. */
        void awaitLine(java.util.function.Predicate<String> until, Set<Long> accepted, List<String> resends)
                throws Exception {
            long deadline = System.nanoTime() + LINE_TIMEOUT.toNanos();
            while (true) {
                String l = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (l == null || l.equals(EOF)) {
                    throw new AssertionError("the child ended or fell silent before the expected line; its errors: "
                            + errors + ": " + tail(errors));
                }
                record(l, accepted, resends);
                if (until.test(l)) {
                    return;
                }
            }
        }

        /** Kills the process (SIGKILL) and records what it printed before it died. */
        void kill(Set<Long> accepted, List<String> resends) throws Exception {
            process.destroyForcibly();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the child died").isTrue();
            for (int i = 0; i < 10_000_000; i++) {
                String l = lines.poll(30, TimeUnit.SECONDS);
                if (l == null || l.equals(EOF)) {
                    return;
                }
                record(l, accepted, resends);
            }
        }

        private static void record(String l, Set<Long> accepted, List<String> resends) {
            if (l.startsWith("A ")) {
                accepted.add(Long.parseLong(l.substring(2)));
            } else if (l.contains("kind=resent") || l.contains("kind=republished")) {
                resends.add(l.contains("kind=resent") ? "resent" : "republished");
            }
        }

        private static String tail(Path file) {
            try {
                String s = java.nio.file.Files.readString(file);
                return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
            } catch (IOException e) {
                return e.toString();
            }
        }
    }
}
