package dev.tether.websocket;

import static dev.tether.core.internal.Require.positive;
import java.time.Duration;
import java.util.Objects;

/**
 * Liveness checking by WebSocket ping: every {@link #interval()} a ping is sent; if neither its pong
 * nor any other frame arrives within {@link #pongTimeout()}, the connection is declared dead and
 * closed (1011 semantics). Any inbound frame counts as a sign of life. While the application applies
 * backpressure (reading is paused), no verdict is passed.
 *
 * <p>Immutable. On by default: {@link #defaults()}.
 */
public final class Heartbeat {

    /** Default ping interval: 15 s. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(15);
    /** Default pong timeout: 10 s. */
    public static final Duration DEFAULT_PONG_TIMEOUT = Duration.ofSeconds(10);

    private static final Heartbeat DEFAULTS = new Heartbeat(true, DEFAULT_INTERVAL, DEFAULT_PONG_TIMEOUT);
    private static final Heartbeat DISABLED = new Heartbeat(false, DEFAULT_INTERVAL, DEFAULT_PONG_TIMEOUT);

    private final boolean enabled;
    private final Duration interval;
    private final Duration pongTimeout;

    private Heartbeat(boolean enabled, Duration interval, Duration pongTimeout) {
        this.enabled = enabled;
        this.interval = interval;
        this.pongTimeout = pongTimeout;
    }

    /** @return a ping every 15 s, a pong expected within 10 s */
    public static Heartbeat defaults() {
        return DEFAULTS;
    }

    /** @return no pings (the peer's pings are still answered) */
    public static Heartbeat disabled() {
        return DISABLED;
    }

    /**
     * @param interval    time between pings, positive
     * @param pongTimeout how long to wait for a sign of life after a ping, positive
     * @return an enabled heartbeat
     * @throws IllegalArgumentException if a duration is not positive
     */
    public static Heartbeat of(Duration interval, Duration pongTimeout) {
        return new Heartbeat(true, positive("interval", interval), positive("pongTimeout", pongTimeout));
    }

    /** @return whether pings are sent */
    public boolean enabled() {
        return enabled;
    }

    /** @return time between pings */
    public Duration interval() {
        return interval;
    }

    /** @return how long a ping may go unanswered */
    public Duration pongTimeout() {
        return pongTimeout;
    }


    @Override
    public boolean equals(Object o) {
        return o instanceof Heartbeat h && enabled == h.enabled && interval.equals(h.interval)
                && pongTimeout.equals(h.pongTimeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(enabled, interval, pongTimeout);
    }

    @Override
    public String toString() {
        return enabled ? "Heartbeat{interval=" + interval.toMillis() + " ms, pongTimeout=" + pongTimeout.toMillis() + " ms}"
                : "Heartbeat{disabled}";
    }
}
