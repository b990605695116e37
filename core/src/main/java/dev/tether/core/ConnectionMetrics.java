package dev.tether.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;

/**
 * Optional Micrometer meters for a {@link ResilientConnection}; needs {@code micrometer-core} on the
 * class path. Meters, tagged {@code connection=<name>}:
 * <ul>
 *   <li>{@code tether.connection.state} (gauge): 1 for the current state, tagged {@code state}</li>
 *   <li>{@code tether.connection.attempts} (counter): retries scheduled, tagged {@code verdict}</li>
 *   <li>{@code tether.connection.reconnect} (timer): from a disconnect to the next connect</li>
 * </ul>
 */
public final class ConnectionMetrics {

    private ConnectionMetrics() {
    }

    /**
     * Binds meters to a connection until it closes or the returned handle is disposed.
     *
     * @param connection the connection
     * @param registry   the meter registry
     * @return a handle to stop updating the meters
     */
    public static Disposable bind(ResilientConnection<?> connection, MeterRegistry registry) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(registry, "registry");
        String name = connection.name();
        for (ConnectionState s : ConnectionState.values()) {
            Gauge.builder("tether.connection.state", connection, c -> c.state() == s ? 1 : 0)
                    .tag("connection", name).tag("state", s.name().toLowerCase(java.util.Locale.ROOT))
                    .description("1 for the connection's current state").register(registry);
        }
        Timer reconnect = Timer.builder("tether.connection.reconnect").tag("connection", name)
                .description("time from a disconnect to the next established session").register(registry);
        ConcurrentHashMap<Verdict.Kind, Counter> attempts = new ConcurrentHashMap<>();
        AtomicReference<LifecycleEvent.Disconnected> lastDrop = new AtomicReference<>();
        return connection.lifecycle().onErrorResume(e -> reactor.core.publisher.Mono.empty()).subscribe(event -> {
            if (event instanceof LifecycleEvent.RetryScheduled r) {
                attempts.computeIfAbsent(r.verdict().kind(), k -> Counter.builder("tether.connection.attempts")
                        .tag("connection", name).tag("verdict", k.name().toLowerCase(java.util.Locale.ROOT))
                        .description("retries scheduled, by verdict").register(registry)).increment();
            } else if (event instanceof LifecycleEvent.Disconnected d) {
                lastDrop.set(d);
            } else if (event instanceof LifecycleEvent.Connected c) {
                LifecycleEvent.Disconnected d = lastDrop.getAndSet(null);
                if (d != null) {
                    reconnect.record(Duration.between(d.timestamp(), c.timestamp()));
                }
            }
        });
    }
}
