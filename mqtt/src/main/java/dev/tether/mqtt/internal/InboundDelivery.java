package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Inbound messages, from the PUBLISH to the acknowledgement.
 *
 * <ul>
 *   <li>A QoS 1 or 2 message is acknowledged (PUBACK, PUBREC) only when every subscriber it goes to has
 *       released it (see {@link InboundEntry}), and acknowledgements leave in the order the messages
 *       arrived (MQTT 5 §4.6): a released message waits for the ones before it.</li>
 *   <li>A QoS 1 or 2 message that matches no subscriber is neither acknowledged nor dropped: it waits in the
 *       unmatched hold for the first subscriber whose filter matches it. A QoS 0 message that matches none
 *       is dropped and counted.</li>
 *   <li>QoS 2: the ids of messages received and not yet released by PUBREL, so a redelivery after a
 *       reconnect (the broker kept the session) is acknowledged without being delivered twice.</li>
 *   <li>Buffers are bounded: a subscriber whose buffer, or an unmatched hold that, reaches its bound pauses
 *       reading from the socket until it has room again (TCP backpressure), unless the QoS 0 policy drops.</li>
 * </ul>
 *
 * <p>Not thread-safe: used under the client's monitor. Items are enqueued here; the caller drains the
 * subscribers it is given after releasing the monitor.
 */
final class InboundDelivery {

    /** What happens to a QoS 0 message when its subscriber's buffer is full. */
    enum Qos0Overflow { PAUSE_READING, DROP }

    private final int holdCapacity;
    private final Qos0Overflow qos0Overflow;
    private @Nullable AckWriter connection;
    private int receiveMaximum = Integer.MAX_VALUE;
    private boolean receiveMaximumExceeded;
    private long receiveMaximumOvershoots;
    /** Received QoS 1 and 2 messages of the current connection whose acknowledgement has not gone out, in order. */
    // Null until a message needs them: an idle client holds none of these queues.
    private @Nullable ArrayDeque<InboundEntry> unacknowledged;
    /** Messages no subscriber matched yet, waiting for one; null while none. */
    private @Nullable ArrayDeque<InboundEntry> held;
    /** Received QoS 2 messages by packet id; null until the first one (an idle client holds no map). */
    private @Nullable IntMap<InboundEntry> qos2Received;
    /** QoS 2 ids whose PUBREC went out and whose PUBREL has not come yet (kept with the session); null until one. */
    private @Nullable IntMap<Boolean> pubrecSent;
    private dev.tether.mqtt.MqttSessionStore store = dev.tether.mqtt.MqttSessionStore.inMemory();
    private int saturated;
    private boolean readingPaused;
    private long droppedQos0;
    private long droppedQos0Reported;

    InboundDelivery(int holdCapacity, Qos0Overflow qos0Overflow) {
        this.holdCapacity = holdCapacity;
        this.qos0Overflow = qos0Overflow;
    }

    // ------------------------------------------------------------------ connection

    /**
     * A connection was accepted.
     *
     * @param c              where its acknowledgements go
     * @param sessionPresent whether the broker kept the session (else the QoS 2 ids are forgotten)
     * @param receiveMaximum the Receive Maximum the client announced (MQTT 5), or {@link Integer#MAX_VALUE}
     */
    void connected(AckWriter c, boolean sessionPresent, int receiveMaximum) {
        connection = c;
        this.receiveMaximum = receiveMaximum;
        this.receiveMaximumExceeded = false;
        unacknowledged = null;
        if (!sessionPresent) {
            qos2Received = null;
            IntMap<Boolean> sent = pubrecSent;
            if (sent != null && !sent.isEmpty()) {
                storeQuietly(() -> store.inboundReleased(0));
            }
            pubrecSent = null;
        }
        readingPaused = false;
        if (saturated > 0) {
            readingPaused = true;
            c.pauseReading(true);
        }
    }

    /**
     * The connection ended: nothing more is acknowledged on it. Messages no subscriber has had yet are
     * withdrawn (the broker still owns them and redelivers them if it keeps the session); the others go on
     * to the subscribers that have not had them.
     *
     * @param subscribers every subscriber, to purge withdrawn messages from
     */
    void disconnected(AckWriter c, Iterable<InboundSubscriber> subscribers) {
        if (connection != c) {
            return;
        }
        connection = null;
        ArrayDeque<InboundEntry> unacked = unacknowledged;
        IntMap<InboundEntry> received = qos2Received;
        if (unacked != null) {
            for (InboundEntry e : unacked) {
                if (!e.done && e.withdraw()) {
                    e.pending = 0;
                    e.done = true;
                    if (e.qos == MqttQos.EXACTLY_ONCE && received != null && received.get(e.packetId) == e) {
                        received.remove(e.packetId);
                    }
                }
            }
            unacknowledged = null;
        }
        ArrayDeque<InboundEntry> h = held;
        if (h != null) {
            h.removeIf(InboundEntry::withdrawn);
        }
        updateHoldSaturation();
        for (InboundSubscriber s : subscribers) {
            s.purgeWithdrawn();
        }
    }

    // ------------------------------------------------------------------ arrival

    /**
     * A PUBLISH arrived on the current connection.
     *
     * @param registry    the subscriptions
     * @param message     the message
     * @param packetId    its packet id (0 for QoS 0)
     * @param identifiers its Subscription Identifiers
     * @param toDrain     collects the subscribers to drain afterwards
     * @param notices     collects notices to report afterwards (kind, details)
     */
    void onPublish(SubscriptionRegistry registry, MqttMessage message, int packetId, List<Integer> identifiers,
                      List<InboundSubscriber> toDrain, List<String[]> notices) {
        // The thread's own lists, not new ones per message (nothing here runs user code or keeps them).
        Scratch<SubscriptionRegistry.Filter> filters = Scratch.FILTERS.take();
        Scratch<InboundSubscriber> targets = Scratch.TARGETS.take();
        try {
            registry.route(message.topic(), identifiers, filters);
            for (int i = 0; i < filters.size(); i++) {
                SubscriptionRegistry.targets(filters.get(i), message, targets);
            }
            route(message, packetId, filters, targets, toDrain, notices);
        } finally {
            targets.release();
            filters.release();
        }
    }

    private void route(MqttMessage message, int packetId, List<SubscriptionRegistry.Filter> filters,
                       List<InboundSubscriber> targets, List<InboundSubscriber> toDrain, List<String[]> notices) {
        AckWriter c = connection;
        MqttQos qos = message.qos();
        if (qos == MqttQos.AT_MOST_ONCE) {
            if (filters.isEmpty()) {
                dropQos0(notices, "matches no subscription");
                return;
            }
            if (targets.isEmpty() && unattached(filters)) {
                dropQos0(notices, "its subscription was restored from the session store and has no subscriber yet");
                return;
            }
            for (int i = 0; i < targets.size(); i++) {
                InboundSubscriber s = targets.get(i);
                if (qos0Overflow == Qos0Overflow.DROP && s.full()) {
                    dropQos0(notices, "its subscriber's buffer of " + s.capacity + " messages is full");
                    continue;
                }
                s.enqueue(message, null, qos0Overflow == Qos0Overflow.PAUSE_READING);
                toDrain.add(s);
            }
            return;
        }
        if (unacknowledged() >= receiveMaximum && !receiveMaximumExceeded) {
            // MQTT 5 lets the client disconnect with 0x93 here. Some brokers overshoot (Mosquitto 2.0 does after a
            // QoS 2 exchange), and the subscribers' bounded buffers keep memory bounded anyway: say so once per
            // connection and go on, rather than drop a working connection into a reconnect loop.
            receiveMaximumExceeded = true;
            receiveMaximumOvershoots++;
            notices.add(new String[] {"receive-maximum-exceeded", "the broker sent more than the Receive Maximum of "
                    + receiveMaximum + " unacknowledged QoS 1 and 2 messages the client announced (" + message.topic()
                    + ", packet id " + packetId + "); the client keeps the connection, its buffers stay bounded"});
        }
        if (qos == MqttQos.EXACTLY_ONCE) {
            IntMap<InboundEntry> received = qos2Received;
            InboundEntry earlier = received == null ? null : received.get(packetId);
            if (earlier != null) {
                // Received before (a redelivery after a reconnect): acknowledge it once the first copy is released.
                InboundEntry ack = new InboundEntry(c, packetId, qos, message);
                unacknowledgedQueue().add(ack);
                if (earlier.done) {
                    ack.done = true;
                    flushAcks();
                } else {
                    earlier.follow(ack);
                }
                return;
            }
        }
        InboundEntry entry = new InboundEntry(c, packetId, qos, message);
        unacknowledgedQueue().add(entry);
        if (qos == MqttQos.EXACTLY_ONCE) {
            IntMap<InboundEntry> received = qos2Received;
            if (received == null) {
                received = new IntMap<>();
                qos2Received = received;
            }
            received.put(packetId, entry);
        }
        if (filters.isEmpty() || (targets.isEmpty() && unattached(filters))) {
            // No subscriber yet (or only a subscription restored from the session store, which the application
            // has not subscribed to again): held unacknowledged for the first subscriber that matches it.
            hold(entry);
            return;
        }
        if (targets.isEmpty()) {
            // Matched, but a retained message none of the filter's subscribers asked for: nobody wants it.
            entry.done = true;
            flushAcks();
            return;
        }
        entry.pending = targets.size();
        for (int i = 0; i < targets.size(); i++) {
            InboundSubscriber s = targets.get(i);
            s.enqueue(message, entry, true);
            toDrain.add(s);
        }
    }

    /** @return whether one of the filters has no subscriber (a subscription restored from the session store) */
    private static boolean unattached(List<SubscriptionRegistry.Filter> filters) {
        for (int i = 0; i < filters.size(); i++) {
            if (filters.get(i).subscribers.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** What a PUBREL found. */
    enum Release {
        /** The PUBREC went out: forget the id, answer PUBCOMP. */
        RELEASED,
        /** No message with that id is known (released before, or never received): PUBCOMP 0x92 in MQTT 5. */
        UNKNOWN,
        /** The message was received but its PUBREC has not gone out: the broker broke the QoS 2 flow. */
        PREMATURE
    }

    /**
     * PUBREL for a received QoS 2 message. The PUBCOMP answer is queued behind the acknowledgements
     * already queued, so it never overtakes the PUBREC it answers.
     *
     * @return what the PUBREL found
     */
    Release onPubRel(int packetId) {
        IntMap<Boolean> sent = pubrecSent;
        IntMap<InboundEntry> received = qos2Received;
        if (sent != null && sent.remove(packetId) != null) {
            storeQuietly(() -> store.inboundReleased(packetId));
            if (received != null) {
                received.remove(packetId);
            }
            return Release.RELEASED;
        }
        return received != null && received.containsKey(packetId) ? Release.PREMATURE : Release.UNKNOWN;
    }

    // ------------------------------------------------------------------ subscribers

    /** A target released the entry (emitted to an automatic subscriber, or acknowledged by the application). */
    void released(InboundEntry entry) {
        if (entry.done || --entry.pending > 0) {
            return;
        }
        finish(entry);
    }

    /**
     * A subscriber was added: the held messages its filter matches are now its own.
     *
     * @return whether any was handed over
     */
    boolean claimHeld(InboundSubscriber s) {
        boolean any = false;
        String filter = s.spec.matchingFilter();
        ArrayDeque<InboundEntry> h = held;
        for (Iterator<InboundEntry> it = h == null ? java.util.Collections.emptyIterator() : h.iterator(); it.hasNext(); ) {
            InboundEntry e = it.next();
            if (TopicFilters.matches(filter, e.message.topic())) {
                it.remove();
                e.pending = 1;
                s.enqueue(e.message, e, true);
                any = true;
            }
        }
        updateHoldSaturation();
        return any;
    }

    /**
     * A subscriber cancelled (and is no longer in the registry): what it never emitted is released by it; a
     * message nobody had goes to the other subscribers it matches, or back to the unmatched hold.
     */
    void abandoned(SubscriptionRegistry registry, List<InboundEntry> notEmitted, List<InboundSubscriber> toDrain) {
        for (InboundEntry e : notEmitted) {
            if (e.done || --e.pending > 0) {
                continue;
            }
            if (e.emitted() || e.connection != connection || connection == null) {
                finish(e);
                continue;
            }
            List<InboundSubscriber> targets = new ArrayList<>(2);
            for (SubscriptionRegistry.Filter f : registry.route(e.message.topic(), List.of())) {
                targets.addAll(f.subscribers);
            }
            if (targets.isEmpty()) {
                hold(e);
            } else {
                e.pending = targets.size();
                for (InboundSubscriber s : targets) {
                    s.enqueue(e.message, e, true);
                    if (!toDrain.contains(s)) {
                        toDrain.add(s);
                    }
                }
            }
        }
    }

    /** A subscriber's buffer crossed a water mark. */
    void saturated(boolean on) {
        saturated += on ? 1 : -1;
        updateReading();
    }

    /** @return QoS 0 messages dropped so far */
    long droppedQos0() {
        return droppedQos0;
    }

    /** @return connections on which the broker overshot the Receive Maximum */
    long receiveMaximumOvershoots() {
        return receiveMaximumOvershoots;
    }

    /** @return messages waiting in the unmatched hold */
    int held() {
        ArrayDeque<InboundEntry> h = held;
        return h == null ? 0 : h.size();
    }

    /** @return received QoS 1 and 2 messages whose acknowledgement has not gone out */
    int unacknowledged() {
        ArrayDeque<InboundEntry> unacked = unacknowledged;
        return unacked == null ? 0 : unacked.size();
    }

    private ArrayDeque<InboundEntry> unacknowledgedQueue() {
        ArrayDeque<InboundEntry> unacked = unacknowledged;
        if (unacked == null) {
            unacked = new ArrayDeque<>(4);
            unacknowledged = unacked;
        }
        return unacked;
    }

    // ------------------------------------------------------------------ internals

    private void hold(InboundEntry e) {
        e.pending = 1;
        ArrayDeque<InboundEntry> h = held;
        if (h == null) {
            h = new ArrayDeque<>(4);
            held = h;
        }
        h.add(e);
        updateHoldSaturation();
    }

    private boolean holdSaturated;

    private void updateHoldSaturation() {
        int count = held();
        boolean full = count >= holdCapacity;
        boolean low = count <= holdCapacity / 2;
        if (full && !holdSaturated) {
            holdSaturated = true;
            saturated(true);
        } else if (low && holdSaturated) {
            holdSaturated = false;
            saturated(false);
        }
    }

    private void finish(InboundEntry entry) {
        entry.pending = 0;
        entry.done = true;
        List<InboundEntry> followers = entry.followers;
        if (followers != null) {
            for (InboundEntry f : followers) {
                f.done = true;
            }
            entry.followers = null;
        }
        flushAcks();
    }

    /**
     * Uses a session store from now on and takes back the QoS 2 ids whose PUBREC an earlier run sent.
     *
     * @param sessionStore   the opened store
     * @param awaitingPubrel the inbound QoS 2 ids it kept
     */
    void useStore(dev.tether.mqtt.MqttSessionStore sessionStore, java.util.Set<Integer> awaitingPubrel) {
        this.store = sessionStore;
        for (Integer id : awaitingPubrel) {
            pubrecSent().put(id, Boolean.TRUE);
        }
    }

    private IntMap<Boolean> pubrecSent() {
        IntMap<Boolean> sent = pubrecSent;
        if (sent == null) {
            sent = new IntMap<>();
            pubrecSent = sent;
        }
        return sent;
    }

    private static void storeQuietly(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            // Only the PUBCOMP reason code after a restart depends on it (0x92 instead of 0x00).
            org.slf4j.LoggerFactory.getLogger(InboundDelivery.class).warn("the session store could not record an "
                    + "inbound QoS 2 id: {}", e.toString());
        }
    }

    /** Sends the acknowledgements that are due, in arrival order. */
    private void flushAcks() {
        AckWriter c = connection;
        ArrayDeque<InboundEntry> unacked = unacknowledged;
        if (unacked == null) {
            return;
        }
        while (!unacked.isEmpty() && unacked.peekFirst().done) {
            InboundEntry e = unacked.pollFirst();
            if (c != null && e.connection == c && !e.withdrawn()) {
                c.queueAck(e.qos == MqttQos.EXACTLY_ONCE, e.packetId);
                if (e.qos == MqttQos.EXACTLY_ONCE) {
                    pubrecSent().put(e.packetId, Boolean.TRUE);
                    int id = e.packetId;
                    storeQuietly(() -> store.inboundAwaitingPubrel(id));
                }
            }
        }
    }

    private void updateReading() {
        boolean pause = saturated > 0;
        AckWriter c = connection;
        if (pause != readingPaused && c != null) {
            readingPaused = pause;
            c.pauseReading(pause);
        }
    }

    private void dropQos0(List<String[]> notices, String why) {
        droppedQos0++;
        // One notice for the first drop, then one per thousand, so a flood does not flood the lifecycle too.
        if (droppedQos0 == 1 || droppedQos0 - droppedQos0Reported >= 1000) {
            droppedQos0Reported = droppedQos0;
            notices.add(new String[] {"inbound-dropped", "QoS 0 message dropped (" + why + "); " + droppedQos0
                    + " QoS 0 messages dropped so far"});
        }
    }

    /** @return the subscribers' and the hold's saturation, for tests */
    boolean readingPaused() {
        return readingPaused;
    }
}
