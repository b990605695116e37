package dev.tether.websocket;

import dev.tether.websocket.internal.MessageAccess;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One complete WebSocket message (all its fragments joined), text or binary.
 *
 * <p>Immutable: the bytes are copied in ({@link #binary(byte[])}, {@link #of(Type, byte[])}) and out
 * ({@link #bytes()}); {@link #asReadOnlyBuffer()} reads them without a copy. Messages the library receives or
 * sends are not copied inside it.
 */
public final class WebSocketMessage {

    /** The two kinds of data message. */
    public enum Type {
        /** UTF-8 text. */
        TEXT,
        /** Arbitrary bytes. */
        BINARY
    }

    private final Type type;
    private final byte[] payload;

    static {
        MessageAccess.install(new MessageAccess.Access() {
            @Override
            public byte[] payload(WebSocketMessage message) {
                return message.payload;
            }

            @Override
            public WebSocketMessage create(boolean text, byte[] ownedPayload) {
                return new WebSocketMessage(text ? Type.TEXT : Type.BINARY, ownedPayload);
            }
        });
    }

    private WebSocketMessage(Type type, byte[] payload) {
        this.type = type;
        this.payload = payload;
    }

    /**
     * @param text the text
     * @return a text message
     */
    public static WebSocketMessage text(String text) {
        return new WebSocketMessage(Type.TEXT, Objects.requireNonNull(text, "text").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @param bytes the bytes, copied
     * @return a binary message
     */
    public static WebSocketMessage binary(byte[] bytes) {
        return new WebSocketMessage(Type.BINARY, Objects.requireNonNull(bytes, "bytes").clone());
    }

    /**
     * @param type  text or binary
     * @param bytes the payload (UTF-8 for text), copied
     * @return the message
     */
    public static WebSocketMessage of(Type type, byte[] bytes) {
        return new WebSocketMessage(Objects.requireNonNull(type, "type"), Objects.requireNonNull(bytes, "bytes").clone());
    }

    /** @return whether this is a text message */
    public boolean isText() {
        return type == Type.TEXT;
    }

    /** @return the type */
    public Type type() {
        return type;
    }

    /** @return the payload decoded as UTF-8 (for a binary message too) */
    public String text() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    /** @return a copy of the payload */
    public byte[] bytes() {
        return payload.clone();
    }

    /**
     * The payload without a copy, for code that reads it once (parsing, hashing, writing it elsewhere).
     *
     * @return a read-only view of the payload, positioned at its start
     */
    public ByteBuffer asReadOnlyBuffer() {
        return ByteBuffer.wrap(payload).asReadOnlyBuffer();
    }

    /** @return the payload length in bytes */
    public int size() {
        return payload.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WebSocketMessage m && type == m.type && Arrays.equals(payload, m.payload);
    }

    @Override
    public int hashCode() {
        return 31 * type.hashCode() + Arrays.hashCode(payload);
    }

    /** @return the type and size; the payload is not shown, as it may hold application secrets */
    @Override
    public String toString() {
        return "WebSocketMessage{" + type + ", " + payload.length + " bytes}";
    }
}
