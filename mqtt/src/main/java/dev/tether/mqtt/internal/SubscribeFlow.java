package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttRefusedException;
import dev.tether.mqtt.MqttSession;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The SUBSCRIBE and UNSUBSCRIBE exchanges of the {@link SubscriptionRegistry}'s filters: a SUBSCRIBE when a
 * filter needs one and a connection can send, its SUBACK (granted, or refused: the subscribers it was for
 * fail), an UNSUBSCRIBE when a filter's last subscriber leaves (or on the next connection if none can send
 * now), and on a new connection the SUBSCRIBEs and UNSUBSCRIBEs lost with the previous one.
 *
 * <p>Not thread-safe: used under the client's monitor. Subscriber errors and notices are added to the caller's
 * {@code after} list and run by the caller once the monitor is released.
 */
final class SubscribeFlow {

    /** A SUBSCRIBE waiting for its SUBACK. */
    private record SubscribeRequest(SubscriptionRegistry.Filter filter, int round, boolean resubscribe) {
    }

    private final PacketIds ids;
    private final SubscriptionRegistry registry;
    private boolean subscriptionIdentifiers;
    // An idle client keeps one of these per connection: the maps and the sets do not exist until used.
    /** SUBSCRIBEs waiting for their SUBACK by packet id; null while none was sent on this connection. */
    private @Nullable IntMap<SubscribeRequest> subAcks;
    /** UNSUBSCRIBEs waiting for their UNSUBACK by packet id; null while none was sent on this connection. */
    private @Nullable IntMap<List<String>> unsubAcks;
    /** The filters to unsubscribe from once a packet id is free or a connection is there; null while none. */
    private @Nullable Set<String> unsubscribeLater;
    /** Filters whose SUBSCRIBE found no free packet id; sent as soon as one frees up ({@link #retryWaiting}); null while none. */
    private @Nullable Set<SubscriptionRegistry.Filter> waitingForId;
    private SessionStorage storage = SessionStorage.NONE;

    /**
     * @param ids      the client's packet ids, shared with the publishes
     * @param registry the subscriptions
     */
    SubscribeFlow(PacketIds ids, SubscriptionRegistry registry) {
        this.ids = ids;
        this.registry = registry;
    }

    /**
     * Uses a session store from now on (before the first connection) and takes back the subscriptions it kept:
     * each is in the registry without a subscriber until the application subscribes to its filter (see
     * {@link SubscriptionRegistry#restore}).
     *
     * @param store         the store
     * @param subscriptions the subscriptions it kept
     */
    void useStore(SessionStorage store, List<dev.tether.mqtt.MqttSubscription> subscriptions) {
        this.storage = store;
        for (dev.tether.mqtt.MqttSubscription sub : subscriptions) {
            registry.restore(sub);
        }
    }

    /**
     * Registers a subscriber; call {@link #subscribeIfNeeded} next.
     *
     * @return its filter
     * @throws IllegalArgumentException if the options disagree with the filter's other subscribers
     */
    SubscriptionRegistry.Filter add(InboundSubscriber s) {
        SubscriptionRegistry.Filter f = registry.add(s);
        Set<String> later = unsubscribeLater;
        if (later != null) {
            later.remove(f.filter);
        }
        return f;
    }

    /**
     * Sends a SUBSCRIBE of the filter if it needs one, none is in flight and the connection can send.
     *
     * @param c the current connection, or null
     */
    void subscribeIfNeeded(SubscriptionRegistry.Filter f, @Nullable SubscribeWriter c, List<Runnable> after) {
        if (f.needsSubscribe && f.pendingId == 0 && c != null && usable(c)) {
            sendSubscribe(c, f, after);
        }
    }

    /**
     * @return whether a SUBSCRIBE or an UNSUBSCRIBE waits for a packet id: publishes then leave freed ids to them
     */
    boolean waitingForIds() {
        return !isEmpty(waitingForId) || !isEmpty(unsubscribeLater);
    }

    /**
     * Sends, if the connection can, the SUBSCRIBEs and the UNSUBSCRIBE that found no free packet id, as far as
     * ids are free now. Called whenever an exchange ends and frees an id.
     *
     * @param c the current connection, or null (nothing happens)
     */
    void retryWaiting(@Nullable SubscribeWriter c, List<Runnable> after) {
        if (c == null || !usable(c)) {
            return;
        }
        Set<SubscriptionRegistry.Filter> waiting = waitingForId;
        if (waiting != null) {
            for (SubscriptionRegistry.Filter f : List.copyOf(waiting)) {
                if (!registry.contains(f) || !f.needsSubscribe || f.pendingId != 0) {
                    waiting.remove(f);
                } else if (!sendSubscribe(c, f, after)) {
                    return;
                }
            }
        }
        unsubscribeLaterNow(c);
    }

    /** Sends one UNSUBSCRIBE of the filters left while none could be sent, if there are any and an id is free. */
    private void unsubscribeLaterNow(SubscribeWriter c) {
        Set<String> later = unsubscribeLater;
        if (later != null && !later.isEmpty()) {
            int id = ids.allocate();
            if (id != 0) {
                List<String> filters = List.copyOf(later);
                unsubscribeLater = null;
                unsubAcks().put(id, filters);
                c.writeUnsubscribe(id, filters);
            }
        }
    }

    private Set<String> unsubscribeLater() {
        Set<String> later = unsubscribeLater;
        if (later == null) {
            later = new LinkedHashSet<>();
            unsubscribeLater = later;
        }
        return later;
    }

    private IntMap<List<String>> unsubAcks() {
        IntMap<List<String>> m = unsubAcks;
        if (m == null) {
            m = new IntMap<>();
            unsubAcks = m;
        }
        return m;
    }

    private static boolean isEmpty(@Nullable Set<?> set) {
        return set == null || set.isEmpty();
    }

    /**
     * The filter's last subscriber left: UNSUBSCRIBE now, or on the next connection.
     *
     * @param c the current connection, or null
     */
    void unsubscribe(String filter, @Nullable SubscribeWriter c) {
        storage.unsubscribed(filter);
        if (c != null && usable(c)) {
            int id = ids.allocate();
            if (id != 0) {
                unsubAcks().put(id, List.of(filter));
                c.writeUnsubscribe(id, List.of(filter));
                return;
            }
        }
        unsubscribeLater().add(filter);
    }

    /**
     * A connection was accepted, before anything is sent on it: the SUBSCRIBEs and UNSUBSCRIBEs in flight are
     * lost (the UNSUBSCRIBEs go again), and the registry learns whether the broker kept the session.
     */
    void connecting(MqttSession session) {
        IntMap<SubscribeRequest> subs = subAcks;
        if (subs != null) {
            subs.forEach((id, req) -> ids.release(id));
            subAcks = null;
        }
        IntMap<List<String>> unsubs = unsubAcks;
        if (unsubs != null && !unsubs.isEmpty()) {
            Set<String> later = unsubscribeLater();
            unsubs.forEach((id, filters) -> {
                ids.release(id);
                later.addAll(filters);
            });
        }
        unsubAcks = null;
        waitingForId = null;
        subscriptionIdentifiers = session.subscriptionIdentifiersAvailable();
        registry.connected(session.sessionPresent());
    }

    /**
     * Sends, on the new connection, a SUBSCRIBE for every filter that needs one and one UNSUBSCRIBE of the
     * filters left meanwhile (forgotten if the broker kept no session: it has no subscriptions to remove).
     */
    void resubscribe(SubscribeWriter c, boolean sessionPresent, List<Runnable> after) {
        if (!sessionPresent) {
            unsubscribeLater = null;
        }
        for (SubscriptionRegistry.Filter f : registry.all()) {
            if (f.needsSubscribe) {
                sendSubscribe(c, f, after);
            }
        }
        unsubscribeLaterNow(c);
    }

    /**
     * SUBACK.
     *
     * @param c the connection it came from
     * @return false if no SUBSCRIBE waits for this id or the codes do not fit
     */
    boolean onSubAck(SubscribeWriter c, int id, List<Integer> codes, List<Runnable> after) {
        IntMap<SubscribeRequest> subs = subAcks;
        SubscribeRequest req = subs == null ? null : subs.get(id);
        if (subs == null || req == null || codes.size() != 1) {
            return false;
        }
        subs.remove(id);
        ids.release(id);
        SubscriptionRegistry.Filter f = req.filter;
        int code = codes.get(0);
        if (f.pendingId == id) {
            f.pendingId = 0;
        }
        String result;
        if (code < 0x80) {
            f.granted = true;
            f.everGranted = true;
            f.ackedRound = req.round;
            if (registry.contains(f)) {
                storage.subscribed(f);
            }
            result = f.filter + " -> granted QoS " + code;
        } else {
            result = f.filter + " -> refused " + String.format("0x%02X", code);
            MqttRefusedException refused = new MqttRefusedException("SUBACK", code, "the broker refused the "
                    + "subscription to '" + f.filter + "' with code " + String.format("0x%02X", code)
                    + (f.filter.startsWith("$share/") ? "; check that the broker supports shared subscriptions, the filter"
                    : "; check the filter") + " and the broker's authorization rules");
            // The subscribers this SUBSCRIBE was for fail; the others keep what the broker granted before.
            for (InboundSubscriber sub : List.copyOf(f.subscribers)) {
                if (!f.granted || sub.round == req.round) {
                    f.subscribers.remove(sub);
                    after.add(() -> sub.error(refused));
                }
            }
            if (f.subscribers.isEmpty() && registry.contains(f)) {
                registry.remove(f);
                storage.unsubscribed(f.filter);
            }
        }
        if (f.needsSubscribe && f.pendingId == 0 && registry.contains(f) && usable(c)) {
            sendSubscribe(c, f, after);
        }
        retryWaiting(c, after);
        String kind = req.resubscribe ? "resubscribed" : "subscribed";
        String details = kind + " [" + result + "]";
        after.add(() -> c.reportNotice(kind, details));
        return true;
    }

    /**
     * @param c the connection it came from
     * @return false if no UNSUBSCRIBE waits for this id
     */
    boolean onUnsubAck(@Nullable SubscribeWriter c, int id, List<Runnable> after) {
        IntMap<List<String>> unsubs = unsubAcks;
        List<String> filters = unsubs == null ? null : unsubs.remove(id);
        if (filters == null) {
            return false;
        }
        ids.release(id);
        retryWaiting(c, after);
        if (c != null) {
            // Not "unsubscribed": code that waits for a SUBACK by a kind ending in "subscribed" must not take this.
            String details = "unsubscribe acknowledged " + filters;
            after.add(() -> c.reportNotice(dev.tether.mqtt.MqttClient.Builder.UNSUBSCRIBE_ACKNOWLEDGED_NOTICE, details));
        }
        return true;
    }

    private static boolean usable(@Nullable SubscribeWriter c) {
        return c != null && c.canSend();
    }

    /** @return false if no packet id was free: the filter waits for one, and a notice says so the first time */
    private boolean sendSubscribe(SubscribeWriter c, SubscriptionRegistry.Filter f, List<Runnable> after) {
        int id = ids.allocate();
        if (id == 0) {
            Set<SubscriptionRegistry.Filter> waiting = waitingForId;
            if (waiting == null) {
                waiting = new LinkedHashSet<>();
                waitingForId = waiting;
            }
            if (waiting.add(f)) {
                String details = "SUBSCRIBE of '" + f.filter + "' waits for a free packet id: all " + PacketIds.MAX
                        + " are in use by exchanges in flight; it is sent as soon as one ends";
                after.add(() -> c.reportNotice("subscribe-waiting", details));
            }
            return false;
        }
        Set<SubscriptionRegistry.Filter> waiting = waitingForId;
        if (waiting != null) {
            waiting.remove(f);
        }
        boolean resubscribe = f.everGranted && !f.granted;
        int round = registry.subscribing(f, id);
        IntMap<SubscribeRequest> subs = subAcks;
        if (subs == null) {
            subs = new IntMap<>();
            subAcks = subs;
        }
        subs.put(id, new SubscribeRequest(f, round, resubscribe));
        c.writeSubscribe(id, f.filter, f.qos, f.noLocal, f.retainAsPublished, f.wireRetainHandling(round),
                subscriptionIdentifiers ? f.identifier : 0);
        return true;
    }
}
