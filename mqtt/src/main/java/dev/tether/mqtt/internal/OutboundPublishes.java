package dev.tether.mqtt.internal;

import dev.tether.core.BufferOverflowException;
import dev.tether.core.ConnectionClosedException;
import dev.tether.core.OverflowPolicy;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttPacketTooLargeException;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttRefusedException;
import dev.tether.mqtt.MqttSession;
import dev.tether.mqtt.PublishResult;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Operators;

/**
 * Outbound publishes, from {@code publish()} to the acknowledgement: those waiting to be sent (the offline
 * buffer, bounded by its {@link OverflowPolicy} while no connection can send) and those in flight with their
 * packet ids. They are written as far as the broker's Receive Maximum and the client's maxInFlight allow, and
 * complete on PUBACK (QoS 1), PUBCOMP (QoS 2) or when written (QoS 0). On a new connection the publishes in
 * flight are resent with their original ids if the broker kept the session, or sent again as new publishes if
 * it did not.
 *
 * <p>Not thread-safe: used under the client's monitor. User-facing completions are added to the caller's
 * {@code after} list and run by the caller once the monitor is released.
 */
final class OutboundPublishes {

    /** The client's side of a publish: takes it when it is subscribed to, takes it back when it is cancelled. */
    interface Owner {
        /** A subscriber subscribed: the publish goes ahead (unless its subscriber cancelled meanwhile). */
        void publish(Publish op);

        /** The subscriber cancelled before the outcome: the publish is no longer sent if it still waits. */
        void cancel(Publish op);
    }

    /**
     * A publish waiting to be sent or in flight, and the subscription of the one who asked for it: its outcome goes
     * either to a {@link MonoSink} or straight to the subscriber of {@link ClientCore#publish} (then this object is
     * that subscriber's subscription, so a publish costs no sink, no wrapper and no cancel callback of its own).
     * A result is held until the subscriber requests it. Run as a {@link Runnable}, it emits the result set by
     * {@link #succeedLater}; as the listener of its write's future, it completes a QoS 0 publish (no listener object
     * per publish).
     *
     * <p>It is also the {@link Mono} that {@code publish()} returns: its first subscriber makes it the publish, and
     * every later subscriber gets a publish of its own of the same message, as a Mono of a new publish per
     * subscription did (one object per publish instead of two).
     */
    static final class Publish extends Mono<PublishResult>
            implements Subscription, Runnable, GenericFutureListener<Future<? super Void>> {
        MqttMessage message;
        int packetId;
        boolean released;
        long storeKey;
        /** When it went in flight, to resend in the original order. */
        long sentSeq;
        private final @Nullable MonoSink<PublishResult> sink;
        /** The subscriber, set once by the first subscription (its compare-and-set decides which is first). */
        private volatile @Nullable CoreSubscriber<? super PublishResult> actual;
        private final @Nullable Owner owner;
        private volatile int state;
        private @Nullable PublishResult result;

        private static final int NO_REQUEST_NO_RESULT = 0;
        private static final int NO_REQUEST_HAS_RESULT = 1;
        private static final int REQUESTED_NO_RESULT = 2;
        private static final int DONE = 3;
        private static final int CANCELLED = 4;
        private static final AtomicIntegerFieldUpdater<Publish> STATE =
                AtomicIntegerFieldUpdater.newUpdater(Publish.class, "state");
        @SuppressWarnings("rawtypes")
        private static final AtomicReferenceFieldUpdater<Publish, CoreSubscriber> ACTUAL =
                AtomicReferenceFieldUpdater.newUpdater(Publish.class, CoreSubscriber.class, "actual");

        /** A publish whose outcome goes to a sink. */
        Publish(MqttMessage message, MonoSink<PublishResult> sink) {
            this.message = message;
            this.sink = sink;
            this.owner = null;
        }

        /**
         * A publish whose outcome goes to its subscriber: the Mono {@code publish()} returns. Nothing happens until
         * it is subscribed to.
         *
         * @param owner takes the publish when it is subscribed to, and back if its subscriber cancels
         */
        Publish(MqttMessage message, Owner owner) {
            this.message = message;
            this.sink = null;
            this.owner = owner;
        }

        /**
         * @param owner takes the publish when it is subscribed to, and back if its subscriber cancels
         * @return the Mono of a publish of the message (Reactor's assembly hooks applied)
         */
        static Mono<PublishResult> of(MqttMessage message, Owner owner) {
            return onAssembly(new Publish(message, owner));
        }

        @Override
        public void subscribe(CoreSubscriber<? super PublishResult> subscriber) {
            Owner o = java.util.Objects.requireNonNull(owner, "a publish with a sink is not subscribed to");
            // The first subscriber makes this the publish; a later one gets a publish of its own.
            Publish op = ACTUAL.compareAndSet(this, null, subscriber) ? this : new Publish(message, o);
            if (op != this) {
                op.actual = subscriber;
            }
            subscriber.onSubscribe(op);
            if (!op.cancelled()) {
                try {
                    o.publish(op);
                } catch (RuntimeException e) {
                    // As Mono.create did with a throwing callback: the subscriber gets the error.
                    op.fail(e);
                }
            }
        }

        /** @return whether the subscriber cancelled */
        boolean cancelled() {
            return state == CANCELLED;
        }

        /** Completes with the result. */
        void success(PublishResult r) {
            MonoSink<PublishResult> s = sink;
            CoreSubscriber<? super PublishResult> a = actual;
            if (s != null) {
                s.success(r);
                return;
            }
            if (a == null) {
                return;
            }
            for (;;) {
                int st = state;
                if (st == REQUESTED_NO_RESULT) {
                    if (STATE.compareAndSet(this, REQUESTED_NO_RESULT, DONE)) {
                        a.onNext(r);
                        a.onComplete();
                        return;
                    }
                } else if (st == NO_REQUEST_NO_RESULT) {
                    result = r;
                    if (STATE.compareAndSet(this, NO_REQUEST_NO_RESULT, NO_REQUEST_HAS_RESULT)) {
                        return;
                    }
                    result = null;
                } else {
                    return; // done or cancelled: the result is not wanted
                }
            }
        }

        /** Completes without a result (dropped by the overflow policy). */
        void success() {
            MonoSink<PublishResult> s = sink;
            CoreSubscriber<? super PublishResult> a = actual;
            if (s != null) {
                s.success();
            } else if (a != null && finish()) {
                a.onComplete();
            }
        }

        /** Fails with the error. */
        void fail(Throwable e) {
            MonoSink<PublishResult> s = sink;
            CoreSubscriber<? super PublishResult> a = actual;
            if (s != null) {
                s.error(e);
            } else if (a != null) {
                if (finish()) {
                    a.onError(e);
                } else {
                    Operators.onErrorDropped(e, a.currentContext());
                }
            }
        }

        /** @return whether this call ended a publish that had no outcome yet */
        private boolean finish() {
            for (;;) {
                int st = state;
                if (st != NO_REQUEST_NO_RESULT && st != REQUESTED_NO_RESULT) {
                    return false;
                }
                if (STATE.compareAndSet(this, st, DONE)) {
                    return true;
                }
            }
        }

        /**
         * @param r the result, emitted when this is {@link #run() run}
         * @return this, to add to the caller's completions
         */
        Runnable succeedLater(PublishResult r) {
            result = r;
            return this;
        }

        /** A QoS 0 publish was written (or failed to be): its outcome. */
        @Override
        public void operationComplete(Future<? super Void> f) {
            if (f.isSuccess()) {
                success(new PublishResult(message.topic(), MqttQos.AT_MOST_ONCE, 0, 0));
            } else {
                Throwable cause = f.cause();
                fail(cause != null ? cause : new IllegalStateException("the write of a QoS 0 publish was cancelled"));
            }
        }

        /** Emits the result given to {@link #succeedLater}. */
        @Override
        public void run() {
            PublishResult r = result;
            if (r != null) {
                success(r);
            }
        }

        @Override
        public void request(long n) {
            if (!Operators.validate(n)) {
                return;
            }
            for (;;) {
                int st = state;
                if (st == NO_REQUEST_NO_RESULT) {
                    if (STATE.compareAndSet(this, NO_REQUEST_NO_RESULT, REQUESTED_NO_RESULT)) {
                        return;
                    }
                } else if (st == NO_REQUEST_HAS_RESULT) {
                    if (STATE.compareAndSet(this, NO_REQUEST_HAS_RESULT, DONE)) {
                        CoreSubscriber<? super PublishResult> a = java.util.Objects.requireNonNull(actual, "actual");
                        PublishResult r = java.util.Objects.requireNonNull(result, "result");
                        result = null;
                        a.onNext(r);
                        a.onComplete();
                        return;
                    }
                } else {
                    return;
                }
            }
        }

        @Override
        public void cancel() {
            int st = STATE.getAndSet(this, CANCELLED);
            Owner o = owner;
            if (st != DONE && st != CANCELLED && o != null) {
                result = null;
                o.cancel(this);
            }
        }
    }

    private final PacketIds ids;
    private final int offlineCapacity;
    private final OverflowPolicy overflowPolicy;
    private final int maxInFlight;
    private final int maxPacketSize;
    private final boolean v5;
    private final Runnable drainOnLoop;
    private final java.util.function.BooleanSupplier othersWaitForIds;
    private int serverReceiveMaximum = PacketIds.MAX;
    private MqttQos serverMaximumQos = MqttQos.EXACTLY_ONCE;
    private boolean serverRetainAvailable = true;
    private long serverMaximumPacketSize = Long.MAX_VALUE;
    // Small at first: an idle client holds these queues (they grow as publishes wait).
    private final ArrayDeque<Publish> pending = new ArrayDeque<>(1);
    /**
     * QoS 0 publishes made while the connection could send and nothing waited before them: they wait only for the
     * event loop's next drain, which writes them before {@link #pending} (everything in it came after them). Not
     * bounded by the buffer's capacity, as a QoS 0 publish was not when it was written from the caller's thread.
     */
    private final ArrayDeque<Publish> toWrite = new ArrayDeque<>(1);
    /**
     * The publishes a session store held without a packet id when it was opened, read from it a page at a time
     * ({@link #refill}) and sent before {@link #pending}: the store may hold far more than fits in memory.
     */
    private final ArrayDeque<Publish> restored = new ArrayDeque<>(1);
    /** The key of the last restored publish read from the store, the last key to read, and whether all were read. */
    private long restoredAfter;
    private long restoredUpTo;
    private boolean restoredAllRead = true;
    /**
     * The keys of the publishes the store held with a packet id: already in memory, so never taken from a page
     * (their id is removed from the store when the broker kept no session, and a later page would see them).
     * An immutable empty set while there are none (an idle client without a store holds no set of its own).
     */
    private java.util.Set<Long> restoredInMemory = java.util.Set.of();
    /** The publishes in flight by packet id (primitive keys: no boxing per publish); their order is {@link Publish#sentSeq}. */
    private final IntMap<Publish> inFlight = new IntMap<>();
    private long sentSeq;
    private final List<MonoSink<Void>> drainWaiters = new ArrayList<>();
    private SessionStorage storage = SessionStorage.NONE;

    /**
     * @param ids             the client's packet ids, shared with SUBSCRIBE and UNSUBSCRIBE
     * @param offlineCapacity how many publishes wait while no connection can send
     * @param overflowPolicy  what happens to a publish when that buffer is full
     * @param maxInFlight     client cap on QoS 1 and 2 publishes in flight
     * @param maxPacketSize   the client's maxPacketSize
     * @param v5              whether MQTT 5 is spoken (PUBLISH properties count in its size)
     * @param drainOnLoop     takes the monitor and calls {@link #drainAndNotify} with the current connection; run
     *                        on the event loop when publishes must cross to it
     */
    OutboundPublishes(PacketIds ids, int offlineCapacity, OverflowPolicy overflowPolicy, int maxInFlight,
                      int maxPacketSize, boolean v5, Runnable drainOnLoop) {
        this(ids, offlineCapacity, overflowPolicy, maxInFlight, maxPacketSize, v5, drainOnLoop, () -> false);
    }

    /**
     * @param othersWaitForIds whether a SUBSCRIBE or UNSUBSCRIBE waits for a packet id: new publishes then take no
     *                         freed id, so the subscription is not starved by a stream of publishes
     */
    OutboundPublishes(PacketIds ids, int offlineCapacity, OverflowPolicy overflowPolicy, int maxInFlight,
                      int maxPacketSize, boolean v5, Runnable drainOnLoop, java.util.function.BooleanSupplier othersWaitForIds) {
        this.othersWaitForIds = othersWaitForIds;
        this.ids = ids;
        this.offlineCapacity = offlineCapacity;
        this.overflowPolicy = overflowPolicy;
        this.maxInFlight = maxInFlight;
        this.maxPacketSize = maxPacketSize;
        this.v5 = v5;
        this.drainOnLoop = drainOnLoop;
    }

    // ------------------------------------------------------------------ user side

    /**
     * A new publish: refused if larger than the client's maxPacketSize, sent if the connection can send,
     * else buffered under the overflow policy.
     *
     * @param op    the publish
     * @param c     the current connection, or null
     * @param after collects the completions to run once the monitor is released
     */
    void publish(Publish op, @Nullable PublishWriter c, List<Runnable> after) {
        MqttPacketTooLargeException tooLarge = tooLarge(op.message, maxPacketSize, false);
        if (tooLarge != null) {
            storage.finished(op); // if it was stored before the client's monitor was taken
            after.add(() -> op.fail(tooLarge));
        } else if (usable(c) && op.message.qos() == MqttQos.AT_MOST_ONCE && pending.isEmpty() && !restoring()) {
            // Nothing waits before it: it waits only for the event loop (see toWrite).
            toWrite.add(op);
            drain(c, after);
        } else if (usable(c)) {
            if (storage.accept(op, after)) {
                pending.add(op);
            }
            drain(c, after);
            if (pending.size() > connectedCapacity() && pending.peekLast() == op) {
                // Still waiting after the drain: for an in-flight slot or a packet id. Same bound, same policy.
                pending.removeLast();
                overflow(op, connectedCapacity(), true, after);
            }
        } else if (pending.size() >= offlineCapacity) {
            overflow(op, offlineCapacity, op.storeKey != 0, after);
        } else if (storage.accept(op, after)) {
            pending.add(op);
        }
    }

    /**
     * How many publishes may wait while a connection can send (for an in-flight slot or a packet id): the offline
     * buffer's capacity, but at least maxInFlight, so that {@code publishAll} (at most maxInFlight outstanding)
     * never overflows when the broker's Receive Maximum is lower.
     */
    int connectedCapacity() {
        return Math.max(offlineCapacity, maxInFlight);
    }

    /**
     * The buffer is full: the overflow policy decides about the new publish (not in the buffer).
     *
     * @param stored whether the session store already holds it
     */
    private void overflow(Publish op, int capacity, boolean stored, List<Runnable> after) {
        switch (overflowPolicy) {
            case FAIL_NEWEST -> {
                if (stored) {
                    storage.finished(op);
                }
                after.add(() -> op.fail(new BufferOverflowException(capacity, "MQTT publishes")));
            }
            case DROP_NEWEST -> {
                if (stored) {
                    storage.finished(op);
                }
                after.add(op::success);
            }
            case DROP_OLDEST -> {
                if (!stored && !storage.accept(op, after)) {
                    break;
                }
                Publish oldest = pending.pollFirst();
                pending.add(op);
                if (oldest != null) {
                    storage.finished(oldest);
                    after.add(oldest::success);
                }
            }
        }
    }

    /** The publish's subscriber cancelled: it is no longer sent if it still waits. */
    void cancel(Publish op) {
        if (toWrite.remove(op)) {
            return;
        }
        if (pending.remove(op) || restored.remove(op)) {
            storage.finished(op);
        }
    }

    /** @return whether no publish is in flight or waiting to be sent */
    boolean idle() {
        return inFlight.isEmpty() && pending.isEmpty() && toWrite.isEmpty() && !restoring();
    }

    /** @return whether publishes restored from the session store still wait (in memory or in the store) */
    private boolean restoring() {
        return !restored.isEmpty() || !restoredAllRead;
    }

    /** @return the next publish to send (a restored one first), or null; reads the store's next page if needed */
    private @Nullable Publish peekWaiting() {
        if (restored.isEmpty() && !restoredAllRead) {
            refill();
        }
        return restored.isEmpty() ? pending.peekFirst() : restored.peekFirst();
    }

    /** Takes the publish {@link #peekWaiting()} returned. */
    private void pollWaiting() {
        if (restored.pollFirst() == null) {
            pending.pollFirst();
        }
    }

    /** @return the next publish to write: a QoS 0 one of {@link #toWrite} first, then {@link #peekWaiting()} */
    private @Nullable Publish peekNext() {
        Publish zero = toWrite.peekFirst();
        return zero != null ? zero : peekWaiting();
    }

    /** Takes the publish {@link #peekNext()} returned. */
    private void pollNext(Publish op) {
        if (toWrite.peekFirst() == op) {
            toWrite.pollFirst();
        } else {
            pollWaiting();
        }
    }

    /** Reads the next page of restored publishes from the store. */
    private void refill() {
        int page = Math.max(64, Math.min(maxInFlight, 1024));
        List<Publish> next = storage.waiting(restoredAfter, restoredUpTo, page);
        for (Publish op : next) {
            if (!restoredInMemory.contains(op.storeKey)) {
                restored.add(op);
            }
        }
        if (next.size() < page) {
            restoredAllRead = true;
            restoredInMemory = java.util.Set.of();
        } else {
            restoredAfter = next.get(next.size() - 1).storeKey;
        }
    }

    /** Completes the sink when no publish is in flight or waiting any more (or on shutdown). */
    void whenDrained(MonoSink<Void> waiter) {
        drainWaiters.add(waiter);
    }

    /**
     * The client is closed for good: every publish waiting or in flight fails.
     *
     * @param closed the error they fail with
     */
    void failAll(ConnectionClosedException closed, List<Runnable> after) {
        for (Publish op : toWrite) {
            after.add(() -> op.fail(closed));
        }
        for (Publish op : pending) {
            after.add(() -> op.fail(closed));
        }
        for (Publish op : inFlight.values()) {
            after.add(() -> op.fail(closed));
        }
        for (Publish op : restored) {
            after.add(() -> op.fail(closed));
        }
        toWrite.clear();
        pending.clear();
        inFlight.clear();
        restored.clear();
        restoredAllRead = true;
        restoredInMemory = java.util.Set.of();
    }

    /** Completes every {@link #whenDrained} waiter (the client is closed). */
    void releaseDrainWaiters(List<Runnable> after) {
        drainWaiters.forEach(w -> after.add(w::success));
        drainWaiters.clear();
    }

    // ------------------------------------------------------------------ connection side

    /**
     * A connection was accepted: takes the broker's limits, then resends what is in flight with the original
     * packet ids (session present) or puts it back at the head of the waiting publishes (no session; a QoS 2
     * publish the broker already received, PUBREC, is delivered). Does not drain: the caller does once it has
     * resubscribed.
     */
    void connected(PublishWriter c, MqttSession session, List<Runnable> after) {
        serverReceiveMaximum = session.receiveMaximum();
        serverMaximumQos = session.maximumQos();
        serverRetainAvailable = session.retainAvailable();
        serverMaximumPacketSize = session.maximumPacketSize().orElse(Long.MAX_VALUE);
        if (session.sessionPresent()) {
            if (!inFlight.isEmpty()) {
                String details = inFlight.size() + " publishes in flight resent with their original packet ids "
                        + inFlightIds();
                after.add(() -> c.reportNotice("resent", details));
            }
            for (Publish op : inFlightInOrder()) {
                MqttPacketTooLargeException tooLarge = op.released ? null
                        : tooLarge(op.message, serverMaximumPacketSize, true);
                if (op.released) {
                    c.writePubRel(op.packetId);
                } else if (tooLarge != null) {
                    // This broker takes smaller packets than the one that accepted the session.
                    inFlight.remove(op.packetId);
                    ids.release(op.packetId);
                    storage.finished(op);
                    after.add(() -> op.fail(tooLarge));
                } else {
                    c.writePublish(op.message, op.packetId, true);
                }
            }
        } else {
            List<Publish> again = new ArrayList<>();
            for (Publish op : inFlightInOrder()) {
                ids.release(op.packetId);
                if (op.released) {
                    // PUBREC said the broker owns the message: it is delivered.
                    storage.finished(op);
                    after.add(op.succeedLater(new PublishResult(op.message.topic(), op.message.qos(), op.packetId, 0)));
                } else {
                    op.packetId = 0;
                    storage.sent(op);
                    again.add(op);
                }
            }
            inFlight.clear();
            if (!again.isEmpty()) {
                String details = again.size() + " publishes in flight sent again as new publishes (the broker kept no session)";
                after.add(() -> c.reportNotice("republished", details));
            }
            // QoS 0 publishes that waited for the old connection's event loop were made after those in flight: they
            // wait behind them.
            for (Publish z = toWrite.pollLast(); z != null; z = toWrite.pollLast()) {
                pending.addFirst(z);
            }
            // While restored publishes are being sent, only they are in flight: they go back before the others.
            ArrayDeque<Publish> queue = restoring() ? restored : pending;
            for (int i = again.size() - 1; i >= 0; i--) {
                queue.addFirst(again.get(i));
            }
        }
    }

    /**
     * PUBACK.
     *
     * @param current the connection new publishes go to, or null
     * @return false if the id is not a QoS 1 publish in flight (a protocol violation)
     */
    boolean onPubAck(@Nullable PublishWriter current, int id, int reasonCode, List<Runnable> after) {
        Publish op = inFlight.get(id);
        if (op == null || op.message.qos() != MqttQos.AT_LEAST_ONCE) {
            return false;
        }
        inFlight.remove(id);
        ids.release(id);
        storage.finished(op);
        complete(op, "PUBACK", reasonCode, after);
        drainAndNotify(current, after);
        return true;
    }

    /**
     * PUBREC: an error code fails the publish, else PUBREL goes out on the connection it came from.
     *
     * @param from    the connection the PUBREC came from
     * @param current the connection new publishes go to, or null
     * @return false if the id is not a QoS 2 publish in flight
     */
    boolean onPubRec(PublishWriter from, @Nullable PublishWriter current, int id, int reasonCode, List<Runnable> after) {
        Publish op = inFlight.get(id);
        if (op == null || op.message.qos() != MqttQos.EXACTLY_ONCE) {
            return false;
        }
        if (reasonCode >= 0x80) {
            inFlight.remove(id);
            ids.release(id);
            storage.finished(op);
            complete(op, "PUBREC", reasonCode, after);
            drainAndNotify(current, after);
        } else {
            op.released = true;
            storage.released(op);
            from.writePubRel(id);
        }
        return true;
    }

    /**
     * PUBCOMP.
     *
     * @param current the connection new publishes go to, or null
     * @return false if the id is not a released QoS 2 publish
     */
    boolean onPubComp(@Nullable PublishWriter current, int id, int reasonCode, List<Runnable> after) {
        Publish op = inFlight.get(id);
        if (op == null || !op.released) {
            return false;
        }
        inFlight.remove(id);
        ids.release(id);
        storage.finished(op);
        after.add(op.succeedLater(new PublishResult(op.message.topic(), op.message.qos(), id, reasonCode)));
        drainAndNotify(current, after);
        return true;
    }

    /** Drains, then completes the {@link #whenDrained} waiters if nothing is left. */
    void drainAndNotify(@Nullable PublishWriter c, List<Runnable> after) {
        drain(c, after);
        if (idle() && !drainWaiters.isEmpty()) {
            drainWaiters.forEach(w -> after.add(w::success));
            drainWaiters.clear();
        }
    }

    /**
     * Writes what waits, as far as the in-flight window allows. QoS 1 and 2 publishes are written on the
     * event loop only: from another thread the drain is scheduled there.
     *
     * @param c the current connection, or null (nothing happens)
     */
    void drain(@Nullable PublishWriter c, List<Runnable> after) {
        if (c == null || !usable(c)) {
            return;
        }
        boolean onLoop = c.inEventLoop();
        int limit = Math.min(serverReceiveMaximum, maxInFlight);
        while (true) {
            Publish op = peekNext();
            if (op == null) {
                return;
            }
            if (op.message.retain() && !serverRetainAvailable) {
                pollNext(op);
                storage.finished(op);
                MqttRefusedException refused = new MqttRefusedException("CONNACK", 0x9A, "the broker does not support "
                        + "retained messages (CONNACK Retain Available 0); publish to '" + op.message.topic() + "' without retain");
                after.add(() -> op.fail(refused));
                continue;
            }
            if (op.message.qos().value() > serverMaximumQos.value()) {
                // The broker's Maximum QoS caps what may be sent (MQTT 5); the result says which QoS was used.
                op.message = op.message.toBuilder().qos(serverMaximumQos).build();
            }
            MqttPacketTooLargeException tooLarge = tooLarge(op.message, serverMaximumPacketSize, true);
            if (tooLarge != null) {
                pollNext(op);
                storage.finished(op);
                after.add(() -> op.fail(tooLarge));
                continue;
            }
            if (!onLoop) {
                // Publishes cross to the event loop in bursts: one task writes all that wait, with one flush,
                // instead of one write-and-flush task per publish from the caller's thread.
                c.scheduleDrain(drainOnLoop);
                return;
            }
            if (op.message.qos() == MqttQos.AT_MOST_ONCE) {
                pollNext(op);
                storage.finished(op);
                // Flushed one by one, not with the burst: a burst in one segment made Mosquitto (TCP_NODELAY off by
                // default) forward it to subscribers in small writes Nagle's algorithm held back until ACKed; with
                // 100-byte messages end to end that halved the throughput (docs/benchmarks.md).
                c.writeAtMostOnce(op.message).addListener(op);
                continue;
            }
            if (inFlight.size() >= limit || othersWaitForIds.getAsBoolean()) {
                return;
            }
            int id = ids.allocate();
            if (id == 0) {
                return;
            }
            pollNext(op);
            op.packetId = id;
            op.sentSeq = ++sentSeq;
            inFlight.put(id, op);
            storage.sent(op);
            c.writePublishSoon(op.message, id);
        }
    }

    /**
     * Uses a session store from now on (before anything is published) and takes back what it held: publishes
     * with a packet id are in flight again (resent or republished on the next connection); those without one
     * are read from the store a page at a time as they are sent, before those accepted since the client was
     * built, which the store now keeps too. Publishes accepted after this wait behind all the restored ones.
     *
     * @param store    the store
     * @param contents what it held when it was opened
     * @param after    collects the failures of publishes the store could not keep
     */
    void useStore(SessionStorage store, dev.tether.mqtt.MqttSessionStore.Contents contents, List<Runnable> after) {
        this.storage = store;
        List<Publish> earlier = new ArrayList<>(pending);
        pending.clear();
        restoredAfter = 0;
        restoredUpTo = contents.lastKey();
        restoredAllRead = contents.waiting() == 0;
        for (Publish op : SessionStorage.restored(contents.inFlight())) {
            if (!restoredAllRead) {
                if (restoredInMemory.isEmpty()) {
                    restoredInMemory = new java.util.HashSet<>();
                }
                restoredInMemory.add(op.storeKey);
            }
            if (op.packetId != 0 && ids.reserve(op.packetId)) {
                op.sentSeq = ++sentSeq;
                inFlight.put(op.packetId, op);
            } else {
                // Its id is taken (by an earlier restored publish): it goes again as a new publish.
                op.packetId = 0;
                op.released = false;
                restored.add(op);
            }
        }
        // Publishes accepted before start() are stored now, after the older ones.
        for (Publish op : earlier) {
            if (storage.accept(op, after)) {
                pending.add(op);
            }
        }
    }

    /** @return publishes waiting to be sent */
    int waiting() {
        return toWrite.size() + pending.size() + restored.size();
    }

    /** @return the packet ids of the publishes in flight, in the order they were sent */
    List<Integer> inFlightIds() {
        List<Publish> ordered = inFlightInOrder();
        List<Integer> ids = new ArrayList<>(ordered.size());
        for (Publish op : ordered) {
            ids.add(op.packetId);
        }
        return List.copyOf(ids);
    }

    /** @return the publishes in flight, in the order they were sent */
    private List<Publish> inFlightInOrder() {
        List<Publish> ordered = inFlight.values();
        ordered.sort(java.util.Comparator.comparingLong(op -> op.sentSeq));
        return ordered;
    }

    // ------------------------------------------------------------------ internals

    private static boolean usable(@Nullable PublishWriter c) {
        return c != null && c.canSend();
    }

    private void complete(Publish op, String packet, int reasonCode, List<Runnable> after) {
        if (reasonCode >= 0x80) {
            MqttRefusedException refused = new MqttRefusedException(packet, reasonCode, "the broker refused the publish to '"
                    + op.message.topic() + "' with " + packet + " reason code " + String.format("0x%02X", reasonCode));
            after.add(() -> op.fail(refused));
        } else {
            after.add(op.succeedLater(new PublishResult(op.message.topic(), op.message.qos(), op.packetId, reasonCode)));
        }
    }

    private @Nullable MqttPacketTooLargeException tooLarge(MqttMessage message, long limit, boolean broker) {
        if (limit == Long.MAX_VALUE) {
            return null; // no broker limit announced: no packet is larger, and nothing needs sizing
        }
        if (PacketSizes.publishAtMost(message, v5) <= limit) {
            return null; // fits even if every character of the topic took three bytes: no need to count them
        }
        long size = PacketSizes.publish(message, v5);
        if (size <= limit) {
            return null;
        }
        String serverLimit = serverMaximumPacketSize == Long.MAX_VALUE ? "not announced"
                : serverMaximumPacketSize + " bytes";
        return new MqttPacketTooLargeException("publish to '" + message.topic() + "' refused: its PUBLISH packet would be "
                + size + " bytes, larger than the " + (broker ? "broker's Maximum Packet Size of " + limit
                + " bytes (CONNACK)" : "client's maxPacketSize of " + limit + " bytes")
                + "; client maxPacketSize " + maxPacketSize + " bytes, broker Maximum Packet Size " + serverLimit
                + "; the connection stays up", size, limit, broker);
    }
}
