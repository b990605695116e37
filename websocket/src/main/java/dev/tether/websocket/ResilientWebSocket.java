package dev.tether.websocket;

import dev.tether.core.BufferOverflowException;
import dev.tether.core.ConnectionClosedException;
import dev.tether.core.OverflowPolicy;
import dev.tether.core.ResilientConnection;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Messages in and out of a reconnecting WebSocket, across sessions.
 *
 * <p>{@link #send(WebSocketMessage)} works whether or not a session is open: while disconnected,
 * messages wait in a bounded buffer (sent in order once the next session opens) and the
 * {@link OverflowPolicy} decides what happens when it is full; or, with {@link #failFast}, they
 * fail at once. A message whose session dies while it is being written fails with that error
 * (it is not sent again: no duplicates). {@link #receive()} merges the inbound messages of every
 * session.
 *
 * <pre>{@code
 * ResilientWebSocket ws = ResilientWebSocket.buffered(conn, 1_000, OverflowPolicy.DROP_OLDEST);
 * ws.receive().subscribe(m -> System.out.println(m.text()));
 * ws.send(WebSocketMessage.text("hello")).subscribe();
 * }</pre>
 *
 * <p>Thread-safe. {@link #dispose()} fails what is still waiting; it does not close the connection.
 */
public final class ResilientWebSocket implements Disposable {

    /** Default capacity of the outbound buffer: 1,024 messages. */
    public static final int DEFAULT_CAPACITY = 1024;

    private final ResilientConnection<WebSocketSession> connection;
    private final int capacity;
    private final @Nullable OverflowPolicy policy;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final Disposable sessions;
    private @Nullable WebSocketSession current;
    private boolean sending;
    private boolean closed;

    private ResilientWebSocket(ResilientConnection<WebSocketSession> connection, int capacity, @Nullable OverflowPolicy policy) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.capacity = capacity;
        this.policy = policy;
        this.sessions = connection.sessions().subscribe(this::onSession, e -> shutdown(e.getCause() != null ? e.getCause() : e), () -> shutdown(null));
    }

    /**
     * @param connection the connection
     * @param capacity   messages that may wait while disconnected, at least 1
     * @param policy     what to do when the buffer is full
     * @return messages over the connection, buffered while disconnected
     * @throws IllegalArgumentException if the capacity is below 1
     */
    public static ResilientWebSocket buffered(ResilientConnection<WebSocketSession> connection, int capacity, OverflowPolicy policy) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, but was " + capacity);
        }
        return new ResilientWebSocket(connection, capacity, Objects.requireNonNull(policy, "policy"));
    }

    /**
     * @param connection the connection
     * @return messages over the connection; sending while disconnected fails at once with an {@link IOException}
     */
    public static ResilientWebSocket failFast(ResilientConnection<WebSocketSession> connection) {
        return new ResilientWebSocket(connection, DEFAULT_CAPACITY, null);
    }

    /** @return the connection underneath */
    public ResilientConnection<WebSocketSession> connection() {
        return connection;
    }

    /**
     * Inbound messages of every session, in order within a session. Subscribe once: each session's
     * {@link WebSocketSession#receive()} admits one subscriber.
     *
     * @return the messages; completes after a user close, errors with a {@link ConnectionClosedException} caused by the terminal exception after a terminal verdict
     */
    public Flux<WebSocketMessage> receive() {
        return connection.perSession(WebSocketSession::receive);
    }

    /**
     * Sends a message now, or once connected. Lazy: nothing happens until subscribed.
     *
     * @param message the message
     * @return completes when the message was written to a session's socket; errors with
     *         {@link BufferOverflowException} if the buffer policy dropped it, with an {@link IOException}
     *         when failing fast while disconnected or when its session died during the write, and with
     *         {@link ConnectionClosedException} when the connection closed first
     */
    public Mono<Void> send(WebSocketMessage message) {
        Objects.requireNonNull(message, "message");
        return Mono.create(sink -> enqueue(new Pending(message, sink)));
    }

    /**
     * @param text a text message
     * @return as {@link #send(WebSocketMessage)}
     */
    public Mono<Void> sendText(String text) {
        return send(WebSocketMessage.text(text));
    }

    /** @return how many messages wait to be sent */
    public synchronized int pending() {
        return queue.size();
    }

    private void enqueue(Pending p) {
        Pending victim = null;
        Throwable refuse = null;
        synchronized (this) {
            if (closed) {
                refuse = new ConnectionClosedException("the WebSocket connection '" + connection.name() + "' is closed", null);
            } else if (policy == null && !isOpen()) {
                refuse = new IOException("the WebSocket connection '" + connection.name() + "' is not connected (fail-fast mode)");
            } else if (queue.size() >= capacity) {
                switch (Objects.requireNonNull(policy == null ? OverflowPolicy.FAIL_NEWEST : policy)) {
                    case FAIL_NEWEST, DROP_NEWEST -> refuse = new BufferOverflowException(capacity, "outbound WebSocket messages");
                    case DROP_OLDEST -> {
                        victim = queue.poll();
                        queue.add(p);
                    }
                }
            } else {
                queue.add(p);
            }
        }
        if (refuse != null) {
            p.sink().error(refuse);
        }
        if (victim != null) {
            victim.sink().error(new BufferOverflowException(capacity, "outbound WebSocket messages"));
        }
        pump();
    }

    private boolean isOpen() {
        WebSocketSession s = current;
        return s != null && s.state() == CloseState.OPEN;
    }

    private void onSession(WebSocketSession session) {
        synchronized (this) {
            current = session;
        }
        session.closed().subscribe(s -> {
            synchronized (this) {
                if (current == session) {
                    current = null;
                }
            }
            pump();
        });
        pump();
    }

    private void pump() {
        Pending next;
        WebSocketSession session;
        synchronized (this) {
            if (sending || queue.isEmpty() || !isOpen()) {
                return;
            }
            session = current;
            next = queue.poll();
            sending = true;
        }
        Objects.requireNonNull(session).send(next.message()).subscribe(null, err -> {
            done();
            next.sink().error(err);
        }, () -> {
            done();
            next.sink().success();
        });
    }

    private void done() {
        synchronized (this) {
            sending = false;
        }
        pump();
    }

    private void shutdown(@Nullable Throwable cause) {
        List<Pending> left;
        synchronized (this) {
            closed = true;
            current = null;
            left = new ArrayList<>(queue);
            queue.clear();
        }
        String why = "the WebSocket connection '" + connection.name() + "' closed before the message was sent";
        left.forEach(p -> p.sink().error(new ConnectionClosedException(why, cause)));
    }

    @Override
    public void dispose() {
        sessions.dispose();
        shutdown(null);
    }

    @Override
    public boolean isDisposed() {
        synchronized (this) {
            return closed;
        }
    }

    private record Pending(WebSocketMessage message, MonoSink<Void> sink) {
    }
}
