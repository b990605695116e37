package dev.tether.websocket.internal;

import dev.tether.websocket.WebSocketMessage;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

/**
 * Inbound messages waiting for the application, and backpressure onto the socket: messages are
 * emitted as the one receiver asks for them; when {@code maxMessages} are held, or about one largest
 * message in bytes, reading from the socket pauses, and it resumes once half of that has been taken.
 * When the session ends, what is held is still delivered, then the receiver completes.
 *
 * <p>Without Netty: pausing and resuming go through {@link Reading}. Confined to the session's loop
 * (the {@link Flux} of {@link #receive()} hops onto it).
 */
final class InboundQueue {

    /** Turns reading from the socket off and on. Called on the loop. */
    interface Reading {
        /** Stop reading. */
        void pause();

        /** Read again. */
        void resume();
    }

    private final String sessionId;
    private final int maxMessages;
    private final long maxBytes;
    private final Executor loop;
    private final Reading reading;
    private final ArrayDeque<WebSocketMessage> held = new ArrayDeque<>();
    private @Nullable FluxSink<WebSocketMessage> receiver;
    private boolean readingPaused;
    private boolean ended;
    private volatile long heldBytes;

    /**
     * @param sessionId   named in errors
     * @param maxMessages messages held before reading pauses
     * @param maxBytes    bytes held before reading pauses (the largest message)
     * @param loop        the session's loop
     * @param reading     the socket's reading switch
     */
    InboundQueue(String sessionId, int maxMessages, long maxBytes, Executor loop, Reading reading) {
        this.sessionId = Objects.requireNonNull(sessionId, "sessionId");
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
        this.loop = Objects.requireNonNull(loop, "loop");
        this.reading = Objects.requireNonNull(reading, "reading");
    }

    /** @return the messages, for one subscriber; a second one gets an error */
    Flux<WebSocketMessage> receive() {
        // Messages are emitted only as far as the receiver asked (drain checks the demand): the sink needs no
        // buffer of its own. (Flux.push would not tell later requests: its sink takes onRequest as unbounded.)
        return Flux.create(sink -> loop.execute(() -> {
            if (receiver != null) {
                sink.error(new IllegalStateException("session " + sessionId + " already has a receiver; subscribe to receive() once"));
                return;
            }
            receiver = sink;
            sink.onRequest(n -> loop.execute(this::drain));
            sink.onDispose(() -> loop.execute(() -> {
                if (receiver == sink) {
                    receiver = null;
                }
            }));
            drain();
        }), FluxSink.OverflowStrategy.IGNORE);
    }

    /**
     * A message for the application.
     *
     * @param message      the message
     * @param mayPauseRead whether reading may pause when the queue is full (not while closing)
     */
    void add(WebSocketMessage message, boolean mayPauseRead) {
        held.add(message);
        heldBytes += message.size();
        drain();
        // Held messages are bounded in count and in bytes (about one largest message), whichever comes first.
        boolean full = held.size() >= maxMessages || heldBytes >= maxBytes;
        if (!readingPaused && full && mayPauseRead) {
            readingPaused = true;
            reading.pause();
        }
    }

    /** Emits what the receiver asked for; resumes reading when enough was taken; completes at the end. */
    void drain() {
        FluxSink<WebSocketMessage> r = receiver;
        while (r != null && !held.isEmpty() && r.requestedFromDownstream() > 0) {
            WebSocketMessage m = held.poll();
            heldBytes -= m.size();
            r.next(m);
            r = receiver;
        }
        if (readingPaused && held.size() <= maxMessages / 2 && heldBytes <= maxBytes / 2) {
            resumeReading();
        }
        if (ended && held.isEmpty() && receiver != null) {
            FluxSink<WebSocketMessage> done = receiver;
            receiver = null;
            done.complete();
        }
    }

    /** Reading goes on whatever is held (closing needs the peer's frames). */
    void resumeReading() {
        readingPaused = false;
        reading.resume();
    }

    /** No more messages: the receiver completes once it has taken what is held. */
    void end() {
        ended = true;
        drain();
    }

    /** @return whether reading is paused because the application does not keep up */
    boolean readingPaused() {
        return readingPaused;
    }

    /** @return bytes of messages held (readable from any thread) */
    long heldBytes() {
        return heldBytes;
    }

    /** @return messages held */
    int size() {
        return held.size();
    }
}
