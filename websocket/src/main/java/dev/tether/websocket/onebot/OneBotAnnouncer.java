package dev.tether.websocket.onebot;

import dev.tether.core.internal.Require;
import dev.tether.websocket.Heartbeat;
import dev.tether.websocket.DrainReason;
import dev.tether.websocket.WebSocketSession;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.LifecycleAnnouncer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * OneBot v11 meta events as a {@link LifecycleAnnouncer}:
 * <ul>
 *   <li>on open: {@code {"time","self_id","post_type":"meta_event","meta_event_type":"lifecycle","sub_type":"connect"}},
 *       followed by {@code sub_type "enable"} when {@linkplain Builder#enableDisable(boolean) enable/disable} is on;</li>
 *   <li>on a drain (stop or reload): {@code sub_type "disable"} when enable/disable is on, just before the close frame;</li>
 *   <li>every {@linkplain Builder#heartbeatInterval(Duration) interval}:
 *       {@code {"time","self_id","post_type":"meta_event","meta_event_type":"heartbeat","status":{"online":true,"good":true},"interval":15000}}.</li>
 * </ul>
 * {@code time} is in seconds since the epoch, {@code interval} in milliseconds until the next heartbeat.
 * The v11 text sends {@code enable}/{@code disable} only over HTTP POST; over WebSocket they are an
 * opt-in extension (on by default here, because a client that hears {@code disable} knows the
 * service, not the network, went away).
 *
 * <p>Immutable.
 */
public final class OneBotAnnouncer implements LifecycleAnnouncer {

    /** Default heartbeat interval: 15 s (the OneBot v11 default). */
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(15);

    private final long selfId;
    private final @Nullable Duration heartbeatInterval;
    private final boolean enableDisable;
    private final Clock clock;
    private final BooleanSupplier online;
    private final BooleanSupplier good;

    private OneBotAnnouncer(Builder b) {
        this.selfId = b.selfId;
        this.heartbeatInterval = b.heartbeatInterval;
        this.enableDisable = b.enableDisable;
        this.clock = b.clock;
        this.online = b.online;
        this.good = b.good;
    }

    /**
     * @param selfId the bot's account id ({@code self_id})
     * @return a builder
     */
    public static Builder builder(long selfId) {
        return new Builder(selfId);
    }

    /** @return a builder prefilled with this announcer's settings */
    public Builder toBuilder() {
        Builder b = new Builder(selfId);
        b.heartbeatInterval = heartbeatInterval;
        b.enableDisable = enableDisable;
        b.clock = clock;
        b.online = online;
        b.good = good;
        return b;
    }

    /**
     * @param subType {@code connect}, {@code enable} or {@code disable}
     * @return the lifecycle meta event as JSON
     */
    public String lifecycle(String subType) {
        Objects.requireNonNull(subType, "subType");
        return "{\"time\":" + clock.instant().getEpochSecond() + ",\"self_id\":" + selfId
                + ",\"post_type\":\"meta_event\",\"meta_event_type\":\"lifecycle\",\"sub_type\":\"" + subType + "\"}";
    }

    /**
     * @param interval time until the next heartbeat
     * @return the heartbeat meta event as JSON
     */
    public String heartbeatJson(Duration interval) {
        return "{\"time\":" + clock.instant().getEpochSecond() + ",\"self_id\":" + selfId
                + ",\"post_type\":\"meta_event\",\"meta_event_type\":\"heartbeat\",\"status\":{\"online\":"
                + online.getAsBoolean() + ",\"good\":" + good.getAsBoolean() + "},\"interval\":" + interval.toMillis() + "}";
    }

    @Override
    public List<WebSocketMessage> onOpen(WebSocketSession session) {
        List<WebSocketMessage> out = new ArrayList<>(2);
        out.add(WebSocketMessage.text(lifecycle("connect")));
        if (enableDisable) {
            out.add(WebSocketMessage.text(lifecycle("enable")));
        }
        return out;
    }

    @Override
    public List<WebSocketMessage> onDrain(WebSocketSession session, DrainReason reason) {
        return enableDisable ? List.of(WebSocketMessage.text(lifecycle("disable"))) : List.of();
    }

    @Override
    public Optional<Duration> heartbeatInterval() {
        return Optional.ofNullable(heartbeatInterval);
    }

    @Override
    public Optional<WebSocketMessage> heartbeat(WebSocketSession session, Duration interval) {
        return Optional.of(WebSocketMessage.text(heartbeatJson(interval)));
    }

    @Override
    public String toString() {
        return "OneBotAnnouncer{selfId=" + selfId + ", heartbeatInterval="
                + (heartbeatInterval == null ? "off" : heartbeatInterval.toMillis() + " ms") + ", enableDisable=" + enableDisable + "}";
    }

    /** Builds a {@link OneBotAnnouncer}. */
    public static final class Builder {
        private final long selfId;
        private @Nullable Duration heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;
        private boolean enableDisable = true;
        private Clock clock = Clock.systemUTC();
        private BooleanSupplier online = () -> true;
        private BooleanSupplier good = () -> true;

        private Builder(long selfId) {
            this.selfId = selfId;
        }

        /**
         * @param interval time between heartbeat meta events, or null for none; default {@link #DEFAULT_HEARTBEAT_INTERVAL}
         * @return this builder
         */
        public Builder heartbeatInterval(@Nullable Duration interval) {
            this.heartbeatInterval = interval == null ? null : Require.positive("heartbeatInterval", interval);
            return this;
        }

        /**
         * @param on whether {@code enable} follows {@code connect} on open and {@code disable} precedes a drain's
         *           close frame; default true
         * @return this builder
         */
        public Builder enableDisable(boolean on) {
            this.enableDisable = on;
            return this;
        }

        /**
         * @param clock the source of {@code time}; default UTC system clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param online reported as {@code status.online}; default always true
         * @param good   reported as {@code status.good}; default always true
         * @return this builder
         */
        public Builder status(BooleanSupplier online, BooleanSupplier good) {
            this.online = Objects.requireNonNull(online, "online");
            this.good = Objects.requireNonNull(good, "good");
            return this;
        }

        /** @return the announcer */
        public OneBotAnnouncer build() {
            return new OneBotAnnouncer(this);
        }
    }
}
