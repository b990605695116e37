package dev.tether.core;

import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.spi.Attempt;
import dev.tether.core.spi.Connector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A connector whose attempts follow a script, for the engine's virtual-time tests: the engine's
 * own logic (timers, verdicts, generations) is what is under test, so no socket is involved. The
 * real-socket behaviour is covered by {@link RealSocketReconnectIT}.
 */
final class ScriptedConnector implements Connector<ScriptedConnector.Session> {

    /** What one attempt does. */
    sealed interface Step permits Fail, Succeed, Hang, Handshake {
    }

    /**
     * A handshake in flight that reacts to a graceful close ({@link Attempt#closeRequested()}): after {@code goodbye}
     * it ends with an error ({@code succeed} false) or with a session, or never reacts ({@code goodbye} null).
     */
    record Handshake(Duration goodbye, boolean succeed) implements Step {
    }

    record Fail(Throwable error) implements Step {
    }

    record Succeed() implements Step {
    }

    record Hang() implements Step {
    }

    /** The session handed to users: lets a test end it as if the peer did. */
    static final class Session implements EstablishedSession<Session> {
        final long generation;
        final Sinks.One<SessionEnd> end = Sinks.one();
        final List<CloseMode> closeRequests = new CopyOnWriteArrayList<>();
        final Attempt attempt;
        volatile boolean deaf;
        /** A graceful close that drains forever: only an abort ends the session. */
        volatile boolean slowGoodbye;

        Session(Attempt attempt) {
            this.attempt = attempt;
            this.generation = attempt.generation();
        }

        void dropByPeer(Throwable cause) {
            end.tryEmitValue(SessionEnd.byPeer(-1, cause));
        }

        /** Ends the session as a planned reconnect would (e.g. to present a fresh token). */
        void endPlanned() {
            end.tryEmitValue(SessionEnd.planned(0));
        }

        @Override
        public Session session() {
            return this;
        }

        @Override
        public Object details() {
            return "scripted session " + generation;
        }

        @Override
        public Mono<SessionEnd> terminated() {
            return end.asMono();
        }

        @Override
        public Mono<Void> close(CloseMode mode) {
            return Mono.fromRunnable(() -> {
                closeRequests.add(mode);
                if (deaf) {
                    return;
                }
                if (mode != CloseMode.ABORT) {
                    attempt.reportCloseSent(1000, "bye");
                    if (slowGoodbye) {
                        return;
                    }
                }
                end.tryEmitValue(SessionEnd.byUser());
            });
        }
    }

    private final Queue<Step> script = new ConcurrentLinkedQueue<>();
    private volatile Step fallback = new Fail(new java.io.IOException("connection refused"));
    final List<Attempt> attempts = new CopyOnWriteArrayList<>();
    final List<Session> sessions = new CopyOnWriteArrayList<>();
    final AtomicInteger cancelledHangs = new AtomicInteger();
    final List<CloseMode> attemptCloseRequests = new CopyOnWriteArrayList<>();
    /** Whether the connector says it closes attempts gracefully. */
    volatile boolean gracefulAttempts;
    private volatile FailureClassifier classifier = f -> java.util.Optional.empty();

    ScriptedConnector then(Step... steps) {
        script.addAll(List.of(steps));
        return this;
    }

    ScriptedConnector otherwise(Step step) {
        this.fallback = step;
        return this;
    }

    ScriptedConnector classifiedBy(FailureClassifier c) {
        this.classifier = c;
        return this;
    }

    static Step fail(Throwable t) {
        return new Fail(t);
    }

    static Step succeed() {
        return new Succeed();
    }

    static Step hang() {
        return new Hang();
    }

    @Override
    public Mono<EstablishedSession<Session>> connect(Attempt attempt) {
        return Mono.defer(() -> {
            attempts.add(attempt);
            Step step = script.poll();
            if (step == null) {
                step = fallback;
            }
            if (step instanceof Fail f) {
                return Mono.error(f.error());
            }
            if (step instanceof Handshake h) {
                return attempt.closeRequested().flatMap(mode -> {
                    attemptCloseRequests.add(mode);
                    if (h.goodbye() == null) {
                        return Mono.<EstablishedSession<Session>>never();
                    }
                    Mono<EstablishedSession<Session>> end = h.succeed() ? Mono.fromSupplier(() -> {
                        Session s = new Session(attempt);
                        sessions.add(s);
                        return s;
                    }) : Mono.error(new java.io.IOException("closed during the handshake"));
                    return Mono.delay(h.goodbye(), attempt.scheduler()).then(end);
                }).doOnCancel(cancelledHangs::incrementAndGet);
            }
            if (step instanceof Hang) {
                return Mono.<EstablishedSession<Session>>never().doOnCancel(cancelledHangs::incrementAndGet);
            }
            Session s = new Session(attempt);
            sessions.add(s);
            return Mono.just(s);
        });
    }

    @Override
    public boolean closesAttemptsGracefully() {
        return gracefulAttempts;
    }

    @Override
    public FailureClassifier classifier() {
        return classifier;
    }

    List<Long> attemptGenerations() {
        List<Long> out = new ArrayList<>();
        attempts.forEach(a -> out.add(a.generation()));
        return out;
    }
}
