package dev.tether.spring.boot.internal;

import dev.tether.core.ConnectionState;
import dev.tether.core.LifecycleEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * One connection's health, followed from its lifecycle stream.
 *
 * <ul>
 *   <li>{@code UP} only while connected;</li>
 *   <li>{@code UNKNOWN} before the first session: not started yet, or still on its first attempts, for at most the
 *       first-connect grace; then {@code DOWN} (a service that never reached its broker is not healthy, but one that
 *       is starting next to its broker is not down either);</li>
 *   <li>{@code DOWN} after it was connected and lost the session (reconnecting), or when it gave up;</li>
 *   <li>{@code OUT_OF_SERVICE} once closed on request (shutdown).</li>
 * </ul>
 */
public final class ConnectionHealth {

    /** The health statuses, named as Spring Boot names them. */
    public enum Status {
        /** Connected. */
        UP,
        /** Not started, or on its first attempts within the grace. */
        UNKNOWN,
        /** Lost, reconnecting, or given up. */
        DOWN,
        /** Closed on request. */
        OUT_OF_SERVICE
    }

    private final ManagedConnection connection;
    private final Duration firstConnectGrace;
    private final Clock clock;
    private volatile @Nullable Instant firstAttempt;
    private volatile boolean everConnected;
    private volatile long generation;
    private volatile @Nullable String endpoint;
    private volatile @Nullable String lastDisconnectCause;
    private volatile @Nullable Instant nextRetry;
    private volatile @Nullable String terminalCause;
    private volatile boolean closed;

    /**
     * @param connection        the connection, followed from now on
     * @param firstConnectGrace how long the first attempts report {@code UNKNOWN}
     * @param clock             the clock
     */
    public ConnectionHealth(ManagedConnection connection, Duration firstConnectGrace, Clock clock) {
        this.connection = connection;
        this.firstConnectGrace = firstConnectGrace;
        this.clock = clock;
        this.endpoint = connection.endpoints().isEmpty() ? null : connection.endpoints().get(0);
        connection.connection().lifecycle().onErrorResume(e -> Mono.empty()).subscribe(this::on);
    }

    private void on(LifecycleEvent e) {
        generation = e.generation();
        if (e instanceof LifecycleEvent.Connecting c) {
            if (firstAttempt == null) {
                firstAttempt = c.timestamp();
            }
            endpoint = c.endpoint().toString();
        } else if (e instanceof LifecycleEvent.Connected c) {
            everConnected = true;
            endpoint = c.endpoint().toString();
            nextRetry = null;
        } else if (e instanceof LifecycleEvent.Disconnected d) {
            lastDisconnectCause = d.failure().map(ConnectionHealth::describe)
                    .orElse(d.initiator() + (d.code() >= 0 ? " code " + d.code() : ""));
        } else if (e instanceof LifecycleEvent.RetryScheduled r) {
            nextRetry = r.timestamp().plus(r.delay());
            lastDisconnectCause = describe(r.cause());
            if (firstAttempt == null) {
                firstAttempt = r.timestamp();
            }
        } else if (e instanceof LifecycleEvent.Closed c) {
            nextRetry = null;
            terminalCause = c.failure().map(ConnectionHealth::describe).orElse(null);
            closed = true;
        } else if (e instanceof LifecycleEvent.CloseRequested) {
            closed = true;
        }
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** @return the status now */
    public Status status() {
        ConnectionState state = connection.connection().state();
        if (state == ConnectionState.CONNECTED) {
            return Status.UP;
        }
        if (state == ConnectionState.CLOSED || state == ConnectionState.CLOSING || closed) {
            return terminalCause != null ? Status.DOWN : Status.OUT_OF_SERVICE;
        }
        if (everConnected) {
            return Status.DOWN;
        }
        Instant first = firstAttempt;
        if (first == null || state == ConnectionState.IDLE) {
            return Status.UNKNOWN;
        }
        return Duration.between(first, clock.instant()).compareTo(firstConnectGrace) < 0 ? Status.UNKNOWN : Status.DOWN;
    }

    /** @return the details: kind, state, endpoint, generation, last disconnect cause, next retry */
    public Map<String, Object> details() {
        Map<String, Object> d = new LinkedHashMap<>();
        ConnectionState state = connection.connection().state();
        d.put("kind", connection.kind());
        d.put("state", state.name());
        String ep = endpoint;
        if (ep != null) {
            d.put("endpoint", ep);
        }
        d.put("generation", generation);
        String cause = lastDisconnectCause;
        if (cause != null) {
            d.put("lastDisconnectCause", cause);
        }
        Instant retry = nextRetry;
        if (retry != null && state == ConnectionState.WAITING_TO_RETRY) {
            d.put("nextRetry", retry.toString());
        }
        String terminal = terminalCause;
        if (terminal != null) {
            d.put("terminalCause", terminal);
        }
        if (!everConnected && state != ConnectionState.CONNECTED && !closed) {
            d.put("firstConnect", "not yet");
        }
        return d;
    }
}
