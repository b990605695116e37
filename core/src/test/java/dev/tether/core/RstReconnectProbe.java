package dev.tether.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.testkit.FaultProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import reactor.core.Disposable;

/**
 * Measures, on loopback, where the time between a TCP reset and the next established session goes,
 * beyond the configured backoff. A probe, not a test: it prints what it measured and asserts no
 * timing. Run it with {@code mvn -pl core test -Dtest=RstReconnectProbe -Dtether.probe=true}.
 */
@EnabledIfSystemProperty(named = "tether.probe", matches = "true")
class RstReconnectProbe {

    private static final Duration BACKOFF = Duration.ofMillis(50);
    private static final int WARMUP = 20;
    private static final int CYCLES = 200;

    private record Stamp(Class<?> type, long nanos, LifecycleEvent event) {
    }

    @Test
    void measure() throws Exception {
        try (LineServer server = new LineServer("secret"); FaultProxy proxy = FaultProxy.start("127.0.0.1", server.port())) {
            ResilientConnection<LineConnector.LineSession> conn = ResilientConnection.builder(new LineConnector())
                    .name("probe").endpoint(Endpoint.of("tcp://127.0.0.1:" + proxy.port()))
                    .credentials(r -> reactor.core.publisher.Mono.just(Credentials.token("secret")))
                    .reconnect(ReconnectPolicy.builder().initialDelay(BACKOFF).maxDelay(BACKOFF).jitter(Jitter.NONE)
                            .stablePeriod(Duration.ofSeconds(60)).build())
                    .build();
            LinkedBlockingQueue<Stamp> stamps = new LinkedBlockingQueue<>();
            Disposable sub = conn.lifecycle().subscribe(e -> stamps.add(new Stamp(e.getClass(), System.nanoTime(), e)));
            conn.start();
            await(stamps, LifecycleEvent.Connected.class);
            List<long[]> rows = new ArrayList<>();
            for (int i = 0; i < WARMUP + CYCLES; i++) {
                long cut = System.nanoTime();
                proxy.cutAll();
                Stamp disconnected = await(stamps, LifecycleEvent.Disconnected.class);
                Stamp scheduled = await(stamps, LifecycleEvent.RetryScheduled.class);
                Stamp connecting = await(stamps, LifecycleEvent.Connecting.class);
                Stamp connected = await(stamps, LifecycleEvent.Connected.class);
                long delay = ((LifecycleEvent.RetryScheduled) scheduled.event()).delay().toNanos();
                if (i < 5) {
                    System.out.printf("cold cycle %d: RST->Disconnected %.2f ms, ->RetryScheduled %.2f, timer late %.2f, connect+handshake %.2f, total beyond backoff %.2f%n",
                            i, (disconnected.nanos() - cut) / 1e6, (scheduled.nanos() - disconnected.nanos()) / 1e6,
                            (connecting.nanos() - scheduled.nanos() - delay) / 1e6, (connected.nanos() - connecting.nanos()) / 1e6,
                            (connected.nanos() - cut - delay) / 1e6);
                }
                if (i >= WARMUP) {
                    rows.add(new long[] {disconnected.nanos() - cut, scheduled.nanos() - disconnected.nanos(),
                            connecting.nanos() - scheduled.nanos() - delay, connected.nanos() - connecting.nanos(),
                            connected.nanos() - cut - delay});
                }
            }
            sub.dispose();
            conn.abort().block(Duration.ofSeconds(10));
            print("RST reconnect overhead on loopback, " + CYCLES + " cycles, backoff " + BACKOFF.toMillis() + " ms",
                    new String[] {"RST -> Disconnected", "Disconnected -> RetryScheduled", "timer lateness (Connecting - scheduled - delay)",
                            "Connecting -> Connected (connect + handshake)", "total beyond the backoff"}, rows);
            assertThat(rows).hasSize(CYCLES);
        }
    }

    /** The engine alone: a connector that connects at once, a session ended in memory, real timers. */
    @Test
    void measureTheEngineAlone() throws Exception {
        ScriptedConnector connector = new ScriptedConnector().otherwise(ScriptedConnector.succeed());
        ResilientConnection<ScriptedConnector.Session> conn = ResilientConnection.builder(connector)
                .name("engine-probe").endpoint(Endpoint.of("tcp://127.0.0.1:1"))
                .reconnect(ReconnectPolicy.builder().initialDelay(BACKOFF).maxDelay(BACKOFF).jitter(Jitter.NONE)
                        .stablePeriod(Duration.ofSeconds(60)).build())
                .build();
        LinkedBlockingQueue<Stamp> stamps = new LinkedBlockingQueue<>();
        Disposable sub = conn.lifecycle().subscribe(e -> stamps.add(new Stamp(e.getClass(), System.nanoTime(), e)));
        conn.start();
        await(stamps, LifecycleEvent.Connected.class);
        List<long[]> rows = new ArrayList<>();
        for (int i = 0; i < WARMUP + CYCLES; i++) {
            long drop = System.nanoTime();
            connector.sessions.get(connector.sessions.size() - 1).dropByPeer(new java.io.IOException("reset"));
            Stamp scheduled = await(stamps, LifecycleEvent.RetryScheduled.class);
            Stamp connected = await(stamps, LifecycleEvent.Connected.class);
            long delay = ((LifecycleEvent.RetryScheduled) scheduled.event()).delay().toNanos();
            if (i >= WARMUP) {
                rows.add(new long[] {scheduled.nanos() - drop, connected.nanos() - scheduled.nanos() - delay,
                        connected.nanos() - drop - delay});
            }
        }
        sub.dispose();
        conn.abort().block(Duration.ofSeconds(10));
        print("engine alone (in-memory connector), " + CYCLES + " cycles, backoff " + BACKOFF.toMillis() + " ms",
                new String[] {"end reported -> RetryScheduled", "RetryScheduled + delay -> Connected", "total beyond the backoff"}, rows);
    }

    private static void print(String title, String[] names, List<long[]> rows) {
        StringBuilder out = new StringBuilder("\n" + title + " (median / p90 / max, ms)\n");
        for (int col = 0; col < names.length; col++) {
            int c = col;
            long[] values = rows.stream().mapToLong(r -> r[c]).sorted().toArray();
            out.append(String.format("  %-50s %7.2f %7.2f %7.2f%n", names[col], values[values.length / 2] / 1e6,
                    values[values.length * 9 / 10] / 1e6, values[values.length - 1] / 1e6));
        }
        for (int col = 0; col < names.length; col++) {
            StringBuilder slow = new StringBuilder();
            for (int i = 0; i < rows.size(); i++) {
                if (rows.get(i)[col] > 5_000_000) {
                    slow.append(String.format(" #%d=%.1f", i, rows.get(i)[col] / 1e6));
                }
            }
            out.append("  over 5 ms in ").append(names[col]).append(":").append(slow).append('\n');
        }
        System.out.println(out);
    }

    private static Stamp await(LinkedBlockingQueue<Stamp> stamps, Class<?> type) throws InterruptedException {
        while (true) {
            Stamp s = stamps.poll(10, TimeUnit.SECONDS);
            if (s == null) {
                throw new AssertionError("no " + type.getSimpleName() + " within 10 s");
            }
            if (s.type() == type) {
                return s;
            }
        }
    }
}
