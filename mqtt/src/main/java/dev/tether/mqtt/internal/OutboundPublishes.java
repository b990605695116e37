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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.MonoSink;

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

    /** A publish waiting to be sent or in flight. */
    static final class Publish {
        MqttMessage message;
        final MonoSink<PublishResult> sink;
        int packetId;
        boolean released;
        long storeKey;

        Publish(MqttMessage message, MonoSink<PublishResult> sink) {
            this.message = message;
            this.sink = sink;
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
    private final ArrayDeque<Publish> pending = new ArrayDeque<>();
    /**
     * The publishes a session store held without a packet id when it was opened, read from it a page at a time
     * ({@link #refill}) and sent before {@link #pending}: the store may hold far more than fits in memory.
     */
    private final ArrayDeque<Publish> restored = new ArrayDeque<>();
    /** The key of the last restored publish read from the store, the last key to read, and whether all were read. */
    private long restoredAfter;
    private long restoredUpTo;
    private boolean restoredAllRead = true;
    /**
     * The keys of the publishes the store held with a packet id: already in memory, so never taken from a page
     * (their id is removed from the store when the broker kept no session, and a later page would see them).
     */
    private final java.util.Set<Long> restoredInMemory = new java.util.HashSet<>();
    private final LinkedHashMap<Integer, Publish> inFlight = new LinkedHashMap<>();
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
            after.add(() -> op.sink.error(tooLarge));
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
                after.add(() -> op.sink.error(new BufferOverflowException(capacity, "MQTT publishes")));
            }
            case DROP_NEWEST -> {
                if (stored) {
                    storage.finished(op);
                }
                after.add(op.sink::success);
            }
            case DROP_OLDEST -> {
                if (!stored && !storage.accept(op, after)) {
                    break;
                }
                Publish oldest = pending.pollFirst();
                pending.add(op);
                if (oldest != null) {
                    storage.finished(oldest);
                    after.add(oldest.sink::success);
                }
            }
        }
    }

    /** The publish's subscriber cancelled: it is no longer sent if it still waits. */
    void cancel(Publish op) {
        if (pending.remove(op) || restored.remove(op)) {
            storage.finished(op);
        }
    }

    /** @return whether no publish is in flight or waiting to be sent */
    boolean idle() {
        return inFlight.isEmpty() && pending.isEmpty() && !restoring();
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
            restoredInMemory.clear();
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
        for (Publish op : pending) {
            after.add(() -> op.sink.error(closed));
        }
        for (Publish op : inFlight.values()) {
            after.add(() -> op.sink.error(closed));
        }
        for (Publish op : restored) {
            after.add(() -> op.sink.error(closed));
        }
        pending.clear();
        inFlight.clear();
        restored.clear();
        restoredAllRead = true;
        restoredInMemory.clear();
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
                        + inFlight.keySet();
                after.add(() -> c.reportNotice("resent", details));
            }
            for (Iterator<Publish> it = inFlight.values().iterator(); it.hasNext(); ) {
                Publish op = it.next();
                MqttPacketTooLargeException tooLarge = op.released ? null
                        : tooLarge(op.message, serverMaximumPacketSize, true);
                if (op.released) {
                    c.writePubRel(op.packetId);
                } else if (tooLarge != null) {
                    // This broker takes smaller packets than the one that accepted the session.
                    it.remove();
                    ids.release(op.packetId);
                    storage.finished(op);
                    after.add(() -> op.sink.error(tooLarge));
                } else {
                    c.writePublish(op.message, op.packetId, true);
                }
            }
        } else {
            List<Publish> again = new ArrayList<>();
            for (Publish op : inFlight.values()) {
                ids.release(op.packetId);
                if (op.released) {
                    // PUBREC said the broker owns the message: it is delivered.
                    storage.finished(op);
                    PublishResult r = new PublishResult(op.message.topic(), op.message.qos(), op.packetId, 0);
                    after.add(() -> op.sink.success(r));
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
        PublishResult r = new PublishResult(op.message.topic(), op.message.qos(), id, reasonCode);
        after.add(() -> op.sink.success(r));
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
            Publish op = peekWaiting();
            if (op == null) {
                return;
            }
            if (op.message.retain() && !serverRetainAvailable) {
                pollWaiting();
                storage.finished(op);
                MqttRefusedException refused = new MqttRefusedException("CONNACK", 0x9A, "the broker does not support "
                        + "retained messages (CONNACK Retain Available 0); publish to '" + op.message.topic() + "' without retain");
                after.add(() -> op.sink.error(refused));
                continue;
            }
            if (op.message.qos().value() > serverMaximumQos.value()) {
                // The broker's Maximum QoS caps what may be sent (MQTT 5); the result says which QoS was used.
                op.message = op.message.toBuilder().qos(serverMaximumQos).build();
            }
            MqttPacketTooLargeException tooLarge = tooLarge(op.message, serverMaximumPacketSize, true);
            if (tooLarge != null) {
                pollWaiting();
                storage.finished(op);
                after.add(() -> op.sink.error(tooLarge));
                continue;
            }
            if (op.message.qos() == MqttQos.AT_MOST_ONCE) {
                pollWaiting();
                storage.finished(op);
                c.writePublishSoon(op.message, 0).addListener(f -> {
                    if (f.isSuccess()) {
                        op.sink.success(new PublishResult(op.message.topic(), MqttQos.AT_MOST_ONCE, 0, 0));
                    } else {
                        op.sink.error(f.cause());
                    }
                });
                continue;
            }
            if (!onLoop) {
                // QoS 1 and 2 publishes cross to the event loop in bursts: one task writes all that wait, with
                // one flush, instead of one write-and-flush task per publish from the caller's thread.
                c.scheduleDrain(drainOnLoop);
                return;
            }
            if (inFlight.size() >= limit || othersWaitForIds.getAsBoolean()) {
                return;
            }
            int id = ids.allocate();
            if (id == 0) {
                return;
            }
            pollWaiting();
            op.packetId = id;
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
                restoredInMemory.add(op.storeKey);
            }
            if (op.packetId != 0 && ids.reserve(op.packetId)) {
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
        return pending.size() + restored.size();
    }

    /** @return the packet ids of the publishes in flight, in the order they were sent */
    List<Integer> inFlightIds() {
        return List.copyOf(inFlight.keySet());
    }

    // ------------------------------------------------------------------ internals

    private static boolean usable(@Nullable PublishWriter c) {
        return c != null && c.canSend();
    }

    private void complete(Publish op, String packet, int reasonCode, List<Runnable> after) {
        if (reasonCode >= 0x80) {
            MqttRefusedException refused = new MqttRefusedException(packet, reasonCode, "the broker refused the publish to '"
                    + op.message.topic() + "' with " + packet + " reason code " + String.format("0x%02X", reasonCode));
            after.add(() -> op.sink.error(refused));
        } else {
            PublishResult r = new PublishResult(op.message.topic(), op.message.qos(), op.packetId, reasonCode);
            after.add(() -> op.sink.success(r));
        }
    }

    private @Nullable MqttPacketTooLargeException tooLarge(MqttMessage message, long limit, boolean broker) {
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
