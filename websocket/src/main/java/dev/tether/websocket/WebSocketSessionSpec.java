package dev.tether.websocket;

import static dev.tether.core.internal.Require.positive;

import java.time.Duration;
import java.util.Objects;

/**
 * How one WebSocket session behaves once it is open, the same on both sides: heartbeat, frame and
 * message limits, the inbound buffer, the close handshake's timer and the lingering close, and
 * compression. {@link WebSocketClient.Builder#session(WebSocketSessionSpec)} and
 * {@link WebSocketServer.Builder#session(WebSocketSessionSpec)} take it; what differs between the
 * sides (the client's TCP close wait and watchdog, the server's drain, limits and announcer) stays
 * on their own builders.
 *
 * <pre>{@code
 * WebSocketSessionSpec spec = WebSocketSessionSpec.builder()
 *         .heartbeat(Heartbeat.of(Duration.ofSeconds(15), Duration.ofSeconds(10)))
 *         .maxMessageBytes(1 << 20)
 *         .build();
 * WebSocketServer server = WebSocketServer.builder().session(spec).handler(...).build();
 * WebSocketClient client = WebSocketClient.builder().session(spec).build();
 * }</pre>
 *
 * <p>Immutable; equal when every setting is equal.
 */
public final class WebSocketSessionSpec {

    /** Default wait for the peer's close frame after ours: 3 s. */
    public static final Duration DEFAULT_CLOSE_HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);
    /** Default largest frame payload: 4 MiB. */
    public static final int DEFAULT_MAX_FRAME_PAYLOAD = 4 * 1024 * 1024;
    /** Default largest inbound message: 16 MiB. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
    /** Default inbound messages held for a slow reader: 256. */
    public static final int DEFAULT_INBOUND_BUFFER = 256;
    /** Default time a lingering close reads and discards while waiting for the peer's close frame or FIN: 2 s. */
    public static final Duration DEFAULT_LINGER_TIMEOUT = Duration.ofSeconds(2);
    /** Default bytes a lingering close may discard before it closes TCP anyway: 16 MiB. */
    public static final long DEFAULT_LINGER_BYTES = 16L * 1024 * 1024;

    private static final WebSocketSessionSpec DEFAULTS = new Builder().build();

    private final Heartbeat heartbeat;
    private final Duration closeHandshakeTimeout;
    private final int maxFramePayload;
    private final int maxMessageBytes;
    private final int inboundBuffer;
    private final Duration lingerTimeout;
    private final long lingerBytes;
    private final boolean compression;

    private WebSocketSessionSpec(Builder b) {
        this.heartbeat = b.heartbeat;
        this.closeHandshakeTimeout = b.closeHandshakeTimeout;
        this.maxFramePayload = b.maxFramePayload;
        this.maxMessageBytes = b.maxMessageBytes;
        this.inboundBuffer = b.inboundBuffer;
        this.lingerTimeout = b.lingerTimeout;
        this.lingerBytes = b.lingerBytes;
        this.compression = b.compression;
    }

    /** @return the defaults: heartbeat on ({@link Heartbeat#defaults()}), the {@code DEFAULT_*} values, no compression */
    public static WebSocketSessionSpec defaults() {
        return DEFAULTS;
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder prefilled with this spec's settings */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** @return per-session pings; a session whose pong is overdue is closed */
    public Heartbeat heartbeat() {
        return heartbeat;
    }

    /** @return the wait for the peer's close frame after ours */
    public Duration closeHandshakeTimeout() {
        return closeHandshakeTimeout;
    }

    /** @return the largest frame payload accepted and sent */
    public int maxFramePayload() {
        return maxFramePayload;
    }

    /** @return the largest inbound message, all fragments together */
    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /** @return inbound messages held for a slow reader before reading pauses */
    public int inboundBuffer() {
        return inboundBuffer;
    }

    /** @return how long a lingering close reads and discards */
    public Duration lingerTimeout() {
        return lingerTimeout;
    }

    /** @return how many bytes a lingering close may discard */
    public long lingerBytes() {
        return lingerBytes;
    }

    /** @return whether permessage-deflate is offered (client) or accepted (server) */
    public boolean compression() {
        return compression;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WebSocketSessionSpec s && heartbeat.equals(s.heartbeat)
                && closeHandshakeTimeout.equals(s.closeHandshakeTimeout) && maxFramePayload == s.maxFramePayload
                && maxMessageBytes == s.maxMessageBytes && inboundBuffer == s.inboundBuffer
                && lingerTimeout.equals(s.lingerTimeout) && lingerBytes == s.lingerBytes && compression == s.compression;
    }

    @Override
    public int hashCode() {
        return Objects.hash(heartbeat, closeHandshakeTimeout, maxFramePayload, maxMessageBytes, inboundBuffer,
                lingerTimeout, lingerBytes, compression);
    }

    @Override
    public String toString() {
        return "WebSocketSessionSpec{heartbeat=" + heartbeat + ", closeHandshakeTimeout=" + closeHandshakeTimeout
                + ", maxFramePayload=" + maxFramePayload + ", maxMessageBytes=" + maxMessageBytes
                + ", inboundBuffer=" + inboundBuffer + ", lingerTimeout=" + lingerTimeout + ", lingerBytes=" + lingerBytes
                + ", compression=" + compression + "}";
    }

    /**
     * Builds a {@link WebSocketSessionSpec}. Every setter validates at once and names the field and the bad value.
     */
    public static final class Builder {
        private Heartbeat heartbeat = Heartbeat.defaults();
        private Duration closeHandshakeTimeout = DEFAULT_CLOSE_HANDSHAKE_TIMEOUT;
        private int maxFramePayload = DEFAULT_MAX_FRAME_PAYLOAD;
        private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
        private int inboundBuffer = DEFAULT_INBOUND_BUFFER;
        private Duration lingerTimeout = DEFAULT_LINGER_TIMEOUT;
        private long lingerBytes = DEFAULT_LINGER_BYTES;
        private boolean compression;

        private Builder() {
        }

        private Builder(WebSocketSessionSpec s) {
            heartbeat = s.heartbeat;
            closeHandshakeTimeout = s.closeHandshakeTimeout;
            maxFramePayload = s.maxFramePayload;
            maxMessageBytes = s.maxMessageBytes;
            inboundBuffer = s.inboundBuffer;
            lingerTimeout = s.lingerTimeout;
            lingerBytes = s.lingerBytes;
            compression = s.compression;
        }

        /**
         * @param heartbeat per-session pings; a session whose pong is overdue is closed; default {@link Heartbeat#defaults()}
         * @return this builder
         */
        public Builder heartbeat(Heartbeat heartbeat) {
            this.heartbeat = Objects.requireNonNull(heartbeat, "heartbeat");
            return this;
        }

        /**
         * @param timeout the wait for the peer's close frame after ours, outside a server's drain (which has its
         *                own bound); default {@link #DEFAULT_CLOSE_HANDSHAKE_TIMEOUT}
         * @return this builder
         */
        public Builder closeHandshakeTimeout(Duration timeout) {
            this.closeHandshakeTimeout = positive("closeHandshakeTimeout", timeout);
            return this;
        }

        /**
         * @param bytes the largest frame payload accepted and sent (longer outbound messages are fragmented);
         *              at least 125; default {@link #DEFAULT_MAX_FRAME_PAYLOAD}
         * @return this builder
         */
        public Builder maxFramePayload(int bytes) {
            if (bytes < 125) {
                throw new IllegalArgumentException("maxFramePayload must be >= 125 bytes, but was " + bytes);
            }
            this.maxFramePayload = bytes;
            return this;
        }

        /**
         * @param bytes the largest inbound message, all fragments together; beyond it the session is closed
         *              with 1009; default {@link #DEFAULT_MAX_MESSAGE_BYTES}
         * @return this builder
         */
        public Builder maxMessageBytes(int bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxMessageBytes must be positive, but was " + bytes);
            }
            this.maxMessageBytes = bytes;
            return this;
        }

        /**
         * @param messages inbound messages held for a slow reader before reading from the socket pauses (it also
         *                 pauses once about {@code maxMessageBytes} are held); default {@link #DEFAULT_INBOUND_BUFFER}
         * @return this builder
         */
        public Builder inboundBuffer(int messages) {
            if (messages < 1) {
                throw new IllegalArgumentException("inboundBuffer must be >= 1, but was " + messages);
            }
            this.inboundBuffer = messages;
            return this;
        }

        /**
         * @param timeout when a side closes because of what its peer sent (a protocol error, a message or frame
         *                too big, a peer too slow to read: 1002, 1007, 1009, 1013), it sends its close frame and
         *                keeps reading, discarding everything but the peer's close frame, until that close frame or
         *                the peer's FIN arrives or this time runs out (then it closes TCP and reports
         *                {@link CloseTimer#LINGER_TIMEOUT}). Closing at once with unread bytes would make the kernel
         *                send a reset that can destroy the close frame, and the peer would see 1006 instead of the
         *                reason. Default {@link #DEFAULT_LINGER_TIMEOUT}
         * @return this builder
         */
        public Builder lingerTimeout(Duration timeout) {
            this.lingerTimeout = positive("lingerTimeout", timeout);
            return this;
        }

        /**
         * @param bytes how many bytes a lingering close (see {@link #lingerTimeout(Duration)}) may read and discard
         *              before it closes TCP anyway and reports {@link CloseTimer#LINGER_BYTES}; nothing discarded is
         *              held in memory. A peer cannot stop in the middle of a frame, so a budget below the largest
         *              frame it may be sending lets that peer see a reset. Default {@link #DEFAULT_LINGER_BYTES}
         * @return this builder
         */
        public Builder lingerBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("lingerBytes must not be negative, but was " + bytes);
            }
            this.lingerBytes = bytes;
            return this;
        }

        /**
         * @param enabled whether permessage-deflate is offered (client) or accepted (server); default false
         * @return this builder
         */
        public Builder compression(boolean enabled) {
            this.compression = enabled;
            return this;
        }

        /** @return the spec */
        public WebSocketSessionSpec build() {
            return new WebSocketSessionSpec(this);
        }
    }
}
