package dev.tether.websocket;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.ResilientConnection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A WebSocket connection whose credentials are renewed make-before-break: on {@link #renew()} a
 * second connection, which asks the credentials provider again (a fresh token), is opened and
 * established before the old one is closed gracefully (1000). The application reads one stream,
 * {@link #receive()}, fed by whichever connections are open, so a renewal shows no gap in it; sends
 * go to the newest established connection.
 *
 * <pre>{@code
 * TokenRenewal renewal = TokenRenewal.builder(tokens).margin(Duration.ofSeconds(30)).build();
 * MakeBeforeBreakWebSocket ws = MakeBeforeBreakWebSocket.builder(() -> ResilientConnection.builder(client)
 *         .endpoint(endpoint).credentials(renewal).build()).build();
 * renewal.start(ws::renew, null);
 * ws.start();
 * ws.receive().subscribe(...);
 * }</pre>
 *
 * <p>During the overlap the server sees two sessions of the same client; a message it sends to both
 * arrives twice. {@link #lifecycle()} shows the current connection's events and, for each renewal,
 * a {@link LifecycleEvent.Notice} of kind {@value #RENEWED_NOTICE}; the events of a connection that
 * was replaced are not shown (their generation numbers restart with each connection).
 */
public final class MakeBeforeBreakWebSocket implements Disposable {

    /** The kind of the {@link LifecycleEvent.Notice} that reports a renewal. */
    public static final String RENEWED_NOTICE = "credentials-renewed";
    /**
     * The kind of the {@link LifecycleEvent.Notice} that reports a renewal whose new connection was not
     * established (the old connection stays in use); its details say why.
     */
    public static final String RENEWAL_FAILED_NOTICE = "credentials-renewal-failed";
    /** Default bound on establishing the new connection of a renewal: 10 s. */
    public static final Duration DEFAULT_HANDOVER_TIMEOUT = Duration.ofSeconds(10);
    /** Default time both connections stay open after the new one is established: 500 ms. */
    public static final Duration DEFAULT_OVERLAP = Duration.ofMillis(500);
    /** Default capacity of the inbound buffer, in messages: 1024. */
    public static final int DEFAULT_INBOUND_BUFFER = 1024;

    private final Supplier<ResilientConnection<WebSocketSession>> factory;
    private final Duration handoverTimeout;
    private final Duration overlap;
    private final Object emitLock = new Object();
    private final Sinks.Many<WebSocketMessage> inbound;
    private final Sinks.Many<LifecycleEvent> events = Sinks.many().multicast().directBestEffort();
    private final AtomicLong renewals = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    /** Every connection opened and not closed yet: the current one and, during a renewal, the other one. */
    private final Set<ResilientConnection<WebSocketSession>> open = ConcurrentHashMap.newKeySet();
    private volatile @Nullable ResilientConnection<WebSocketSession> current;
    private volatile boolean disposed;

    private MakeBeforeBreakWebSocket(Builder b) {
        this.factory = b.factory;
        this.handoverTimeout = b.handoverTimeout;
        this.overlap = b.overlap;
        this.inbound = Sinks.many().multicast().onBackpressureBuffer(b.inboundBuffer, false);
    }

    /**
     * @param factory builds a new, not yet started connection each time it is called; each must
     *                ask its credentials provider for credentials on connecting
     * @return a builder
     */
    public static Builder builder(Supplier<ResilientConnection<WebSocketSession>> factory) {
        return new Builder(factory);
    }

    /**
     * Opens the first connection.
     *
     * @return this
     * @throws IllegalStateException if already started or disposed
     */
    public synchronized MakeBeforeBreakWebSocket start() {
        if (current != null || disposed) {
            throw new IllegalStateException(disposed ? "disposed" : "already started");
        }
        open(true);
        return this;
    }

    /**
     * Make-before-break: opens a new connection (fresh credentials), waits until it is established,
     * makes it the current one, keeps the old one open for the {@linkplain Builder#overlap(Duration)
     * overlap}, then closes it gracefully.
     *
     * @return completes when the old connection is closed; errors, leaving the old connection in
     *         place, when the new one is not established within the handover timeout (the lifecycle
     *         then shows a {@link LifecycleEvent.Notice} of kind {@value #RENEWAL_FAILED_NOTICE})
     */
    public Mono<Void> renew() {
        return Mono.defer(() -> {
            ResilientConnection<WebSocketSession> old;
            ResilientConnection<WebSocketSession> next;
            synchronized (this) {
                old = current;
                if (old == null || disposed) {
                    return Mono.error(new IllegalStateException("not started, or disposed"));
                }
                next = open(false);
            }
            return next.awaitConnected(handoverTimeout)
                    .flatMap(session -> {
                        synchronized (this) {
                            if (disposed) {
                                return next.close().then(Mono.error(new IllegalStateException("disposed during the renewal")));
                            }
                            current = next;
                        }
                        long n = renewals.incrementAndGet();
                        emitEvent(new LifecycleEvent.Notice(next.generation(), Instant.now(), RENEWED_NOTICE,
                                "renewal " + n + ": a new connection with fresh credentials took over; the old one closes"));
                        // The old connection stays open a moment: what the server sent it before it knew the new
                        // session still arrives (a close sent at once would race with it).
                        return Mono.delay(overlap).then(old.close());
                    })
                    .onErrorResume(e -> {
                        if (current == next) {
                            return Mono.error(e);
                        }
                        if (!disposed) {
                            emitEvent(new LifecycleEvent.Notice(old.generation(), Instant.now(), RENEWAL_FAILED_NOTICE,
                                    "the new connection was not established (" + e.getMessage() + "); the old one stays in use"));
                        }
                        return next.close().then(Mono.error(e));
                    });
        });
    }

    /** @return the messages of every connection, in arrival order; one subscriber at a time keeps up with them */
    public Flux<WebSocketMessage> receive() {
        return inbound.asFlux();
    }

    /**
     * @param message sent on the current connection's session (waiting until it is connected)
     * @return completes when written
     */
    public Mono<Void> send(WebSocketMessage message) {
        ResilientConnection<WebSocketSession> c = current;
        if (c == null) {
            return Mono.error(new IllegalStateException("not started"));
        }
        return c.session().flatMap(s -> s.send(message));
    }

    /** @return the current connection's lifecycle events and the renewal notices */
    public Flux<LifecycleEvent> lifecycle() {
        return events.asFlux();
    }

    /** @return the current connection, if started */
    public @Nullable ResilientConnection<WebSocketSession> current() {
        return current;
    }

    /** @return how many renewals completed */
    public long renewals() {
        return renewals.get();
    }

    /** @return how many inbound messages were dropped because the reader did not keep up */
    public long dropped() {
        return dropped.get();
    }

    /**
     * Closes every connection gracefully (during a renewal both the old and the new one) and ends
     * {@link #receive()}.
     *
     * @return completes when all are closed
     */
    public Mono<Void> close() {
        return Mono.defer(() -> {
            List<ResilientConnection<WebSocketSession>> all;
            synchronized (this) {
                disposed = true;
                all = new ArrayList<>(open);
            }
            return Flux.fromIterable(all).flatMap(c -> c.close().onErrorResume(e -> Mono.empty())).then().doFinally(s -> {
                synchronized (emitLock) {
                    inbound.tryEmitComplete();
                    events.tryEmitComplete();
                }
            });
        });
    }

    @Override
    public void dispose() {
        close().subscribe(null, e -> { });
    }

    @Override
    public boolean isDisposed() {
        return disposed;
    }

    @Override
    public String toString() {
        return "MakeBeforeBreakWebSocket{renewals=" + renewals + ", current=" + current + "}";
    }

    private ResilientConnection<WebSocketSession> open(boolean asCurrent) {
        ResilientConnection<WebSocketSession> c = Objects.requireNonNull(factory.get(), "the factory returned null");
        if (asCurrent) {
            current = c;
        }
        open.add(c);
        c.onClosed().onErrorResume(e -> Mono.empty()).subscribe(null, null, () -> open.remove(c));
        c.lifecycle().subscribe(e -> {
            if (current == c) {
                emitEvent(e);
            }
        }, e -> { });
        c.perSession(WebSocketSession::receive).subscribe(m -> {
            synchronized (emitLock) {
                if (inbound.tryEmitNext(m).isFailure()) {
                    dropped.incrementAndGet();
                }
            }
        }, e -> { });
        c.start();
        return c;
    }

    private void emitEvent(LifecycleEvent e) {
        synchronized (emitLock) {
            events.tryEmitNext(e);
        }
    }

    /** Builds a {@link MakeBeforeBreakWebSocket}. */
    public static final class Builder {
        private final Supplier<ResilientConnection<WebSocketSession>> factory;
        private Duration handoverTimeout = DEFAULT_HANDOVER_TIMEOUT;
        private int inboundBuffer = DEFAULT_INBOUND_BUFFER;
        private Duration overlap = DEFAULT_OVERLAP;

        private Builder(Supplier<ResilientConnection<WebSocketSession>> factory) {
            this.factory = Objects.requireNonNull(factory, "factory");
        }

        /**
         * @param timeout bound on establishing the new connection of a renewal; default {@link #DEFAULT_HANDOVER_TIMEOUT}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder handoverTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "handoverTimeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("handoverTimeout must be positive, but was " + timeout);
            }
            this.handoverTimeout = timeout;
            return this;
        }

        /**
         * @param overlap how long both connections stay open after the new one is established, so that
         *                messages the server sent to the old session before it knew the new one still
         *                arrive; default {@link #DEFAULT_OVERLAP}
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder overlap(Duration overlap) {
            Objects.requireNonNull(overlap, "overlap");
            if (overlap.isNegative()) {
                throw new IllegalArgumentException("overlap must not be negative, but was " + overlap);
            }
            this.overlap = overlap;
            return this;
        }

        /**
         * @param messages capacity of the inbound buffer; a message that does not fit is dropped and
         *                 counted ({@link MakeBeforeBreakWebSocket#dropped()}); default {@link #DEFAULT_INBOUND_BUFFER}
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder inboundBuffer(int messages) {
            if (messages < 1) {
                throw new IllegalArgumentException("inboundBuffer must be at least 1, but was " + messages);
            }
            this.inboundBuffer = messages;
            return this;
        }

        /** @return the connection, not started */
        public MakeBeforeBreakWebSocket build() {
            return new MakeBeforeBreakWebSocket(this);
        }
    }
}
