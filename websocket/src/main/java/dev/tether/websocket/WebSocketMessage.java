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
 * ({@link #bytes()}); {@link #asReadOnlyBuffer()} reads them without a copy, and {@link #wrap(Type, byte[])} and
 * {@link #wrapBinary(byte[])} take over an array the caller gives up, without a copy. Messages the library receives
 * or sends are not copied inside it.
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

    /**
     * A binary message that takes the caller's array as its payload, without copying it; see
     * {@link #wrap(Type, byte[])} for the contract.
     *
     * @param bytes the payload, not copied: the caller gives it up and never changes it again
     * @return a binary message
     */
    public static WebSocketMessage wrapBinary(byte[] bytes) {
        return new WebSocketMessage(Type.BINARY, Objects.requireNonNull(bytes, "bytes"));
    }

    /**
     * A message that takes the caller's array as its payload, without copying it: what a sender of many or large
     * messages should use. The array is handed over: from this call on, neither the caller nor anyone else may
     * change it, for as long as the message, or a send of it, may still be read. The library never writes to it
     * (a client's frames are masked into a buffer of their own). Reading it, and wrapping the same unchanged array
     * in other messages, is fine.
     *
     * <p>If the array is changed anyway, the message is no longer the value it was: {@link #equals(Object)},
     * {@link #hashCode()}, {@link #bytes()}, {@link #text()} and {@link #asReadOnlyBuffer()} follow the array, and a
     * send writes whatever the array holds when its frame is encoded, which happens later on the connection's event
     * loop (possibly a mix of old and new bytes if the change races with the encoding). Use
     * {@link #of(Type, byte[])} or {@link #binary(byte[])}, which copy, when the array will be reused.
     *
     * @param type  text or binary
     * @param bytes the payload (UTF-8 for text), not copied: the caller gives it up and never changes it again
     * @return the message
     */
    public static WebSocketMessage wrap(Type type, byte[] bytes) {
        return new WebSocketMessage(Objects.requireNonNull(type, "type"), Objects.requireNonNull(bytes, "bytes"));
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
