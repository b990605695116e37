package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSubscription;
import dev.tether.mqtt.RetainHandling;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The subscriptions the client holds at the broker, one per topic filter, and their local subscribers.
 *
 * <p>Retained messages and several subscribers of one filter: the broker keeps one subscription per filter,
 * so a subscriber that joins a filter others already subscribed gets the retained messages only if the
 * filter is subscribed again. Every SUBSCRIBE of a filter opens a <em>round</em>; a subscriber belongs to the
 * round that brought (or will bring) it the retained messages. A PUBLISH with the RETAIN flag set is sent by
 * the broker because of a SUBSCRIBE (without Retain As Published the broker clears the flag on live
 * messages, MQTT 5 §3.3.1.3 and 3.1.1 §3.3.1.3), so it goes only to the subscribers of the round last
 * acknowledged by SUBACK that asked for retained messages: each subscriber sees them as if it had
 * subscribed alone, and never twice.
 *
 * <p>Routing: with MQTT 5 Subscription Identifiers (when the broker offers them) every filter gets its own
 * identifier and a PUBLISH goes to the filters it names, so overlapping filters never deliver one PUBLISH
 * twice; otherwise, and for an identifier this client does not know (a session from an earlier run), by
 * matching the topic against each filter (the part after {@code $share/{group}/} for shared subscriptions).
 *
 * <p>Not thread-safe: used under the client's monitor.
 */
final class SubscriptionRegistry {

    /** One subscription at the broker. */
    static final class Filter {
        final String filter;
        final String matching;
        final boolean noLocal;
        final boolean retainAsPublished;
        final int identifier;
        final boolean explicitIdentifier;
        MqttQos qos;
        final List<InboundSubscriber> subscribers = new ArrayList<>();
        /** The broker granted it in the current session. */
        boolean granted;
        /** Granted at least once, in any session (a later SUBSCRIBE is a resubscription). */
        boolean everGranted;
        /**
         * Restored from the session store and no subscriber of this process has joined it yet: the messages it
         * routes are held unacknowledged until one does.
         */
        boolean restored;
        /** A SUBSCRIBE must be sent: new, a higher QoS, or a subscriber waiting for the retained messages. */
        boolean needsSubscribe = true;
        /** The packet id of the SUBSCRIBE in flight, 0 if none. */
        int pendingId;
        /** Rounds sent so far; the round of the SUBSCRIBE in flight is this number. */
        int sentRounds;
        /** The round of the last SUBACK: retained messages arriving now belong to it. */
        int ackedRound;

        Filter(MqttSubscription spec, int identifier) {
            this.filter = spec.topicFilter();
            this.matching = spec.matchingFilter();
            this.noLocal = spec.noLocal();
            this.retainAsPublished = spec.retainAsPublished();
            this.identifier = identifier;
            this.explicitIdentifier = spec.subscriptionIdentifier().isPresent();
            this.qos = spec.qos();
        }

        /** @return the round a subscriber joining now waits for */
        int nextRound() {
            return sentRounds + 1;
        }

        /** @return the Retain Handling to put in the next SUBSCRIBE */
        RetainHandling wireRetainHandling(int round) {
            if (retainAsPublished && everGranted) {
                return RetainHandling.DO_NOT_SEND;
            }
            for (InboundSubscriber s : subscribers) {
                if (s.round == round && s.wantsRetained()) {
                    return RetainHandling.SEND;
                }
            }
            return RetainHandling.DO_NOT_SEND;
        }

        @Override
        public String toString() {
            return filter;
        }
    }

    // Immutable empty maps until the first filter (an idle client without subscriptions holds no maps of its own);
    // the two always hold the same filters, so a removal only ever meets the mutable ones.
    private Map<String, Filter> filters = Map.of();
    private Map<Integer, Filter> byIdentifier = Map.of();
    private int nextIdentifier = 1;

    /**
     * Adds a subscriber.
     *
     * @return its filter; its {@link Filter#needsSubscribe} says whether a SUBSCRIBE must go out
     * @throws IllegalArgumentException if the options disagree with the filter's other subscribers
     */
    Filter add(InboundSubscriber s) {
        MqttSubscription spec = s.spec;
        Filter f = filters.get(spec.topicFilter());
        if (f != null && f.restored && f.subscribers.isEmpty() && !sameOptions(f, spec)) {
            // The application subscribes to a restored filter with other options: its options win.
            filters.remove(f.filter);
            byIdentifier.remove(f.identifier);
            f = null;
        }
        if (f != null && f.restored) {
            f.restored = false;
        }
        if (f == null) {
            int id = spec.subscriptionIdentifier().orElse(0);
            if (id != 0 && byIdentifier.containsKey(id)) {
                throw new IllegalArgumentException("subscriptionIdentifier " + id + " is already used by the filter '"
                        + byIdentifier.get(id).filter + "'; give '" + spec.topicFilter() + "' another one or none");
            }
            if (id == 0) {
                id = freeIdentifier();
            }
            f = new Filter(spec, id);
            register(f);
        } else {
            if (f.noLocal != spec.noLocal() || f.retainAsPublished != spec.retainAsPublished()) {
                throw new IllegalArgumentException("'" + spec.topicFilter() + "' is already subscribed with noLocal="
                        + f.noLocal + ", retainAsPublished=" + f.retainAsPublished + "; a subscriber of the same filter"
                        + " asked noLocal=" + spec.noLocal() + ", retainAsPublished=" + spec.retainAsPublished()
                        + ": subscribers of one filter share one subscription at the broker, so they must agree");
            }
            if (spec.subscriptionIdentifier().isPresent() && spec.subscriptionIdentifier().getAsInt() != f.identifier) {
                throw new IllegalArgumentException("'" + spec.topicFilter() + "' is already subscribed with subscription "
                        + "identifier " + f.identifier + ", not " + spec.subscriptionIdentifier().getAsInt());
            }
            if (spec.qos().value() > f.qos.value()) {
                f.qos = spec.qos();
                f.needsSubscribe = true;
            }
            if (s.wantsRetained() && !(f.retainAsPublished && f.everGranted)) {
                f.needsSubscribe = true;
            }
        }
        s.round = f.nextRound();
        f.subscribers.add(s);
        return f;
    }

    private static boolean sameOptions(Filter f, MqttSubscription spec) {
        return f.noLocal == spec.noLocal() && f.retainAsPublished == spec.retainAsPublished()
                && (spec.subscriptionIdentifier().isEmpty() || spec.subscriptionIdentifier().getAsInt() == f.identifier);
    }

    /**
     * Takes back a subscription the session store kept (granted by the broker in an earlier run): registered
     * with its Subscription Identifier and no subscriber. If the broker kept the session it still has it and
     * nothing is sent; if not, it is subscribed again on connection like every other filter. The first
     * application subscriber of the same filter joins it ({@link #add}).
     */
    void restore(MqttSubscription spec) {
        if (filters.containsKey(spec.topicFilter())) {
            return;
        }
        int id = spec.subscriptionIdentifier().orElse(0);
        if (id == 0 || byIdentifier.containsKey(id)) {
            id = freeIdentifier();
        }
        Filter f = new Filter(spec, id);
        f.restored = true;
        f.everGranted = true;
        f.needsSubscribe = false;
        register(f);
    }

    private void register(Filter f) {
        if (filters.isEmpty()) {
            filters = new LinkedHashMap<>();
            byIdentifier = new HashMap<>();
        }
        filters.put(f.filter, f);
        byIdentifier.put(f.identifier, f);
    }

    /**
     * Removes a subscriber.
     *
     * @return its filter if it was the last one (the filter is then gone and must be unsubscribed), else null
     */
    @Nullable Filter remove(InboundSubscriber s) {
        Filter f = filters.get(s.spec.topicFilter());
        if (f == null || !f.subscribers.remove(s) || !f.subscribers.isEmpty()) {
            return null;
        }
        filters.remove(f.filter);
        byIdentifier.remove(f.identifier);
        return f;
    }

    /** Removes a filter whose subscription the broker refused. */
    void remove(Filter f) {
        if (filters.get(f.filter) == f) {
            filters.remove(f.filter);
            byIdentifier.remove(f.identifier);
        }
    }

    /** @return whether the filter is still registered (not removed meanwhile) */
    boolean contains(Filter f) {
        return filters.get(f.filter) == f;
    }

    /** @return every filter */
    Collection<Filter> all() {
        return filters.values();
    }

    /**
     * Marks the start of a SUBSCRIBE for the filter.
     *
     * @return the round it opens
     */
    int subscribing(Filter f, int packetId) {
        f.needsSubscribe = false;
        f.pendingId = packetId;
        f.sentRounds++;
        // Subscribers still waiting for their retained messages (a SUBSCRIBE lost with its connection) join it.
        for (InboundSubscriber s : f.subscribers) {
            if (s.round > f.ackedRound) {
                s.round = f.sentRounds;
            }
        }
        return f.sentRounds;
    }

    /**
     * A new connection: SUBSCRIBEs in flight are lost; without a session every filter must be subscribed again,
     * and the subscribers that want the retained messages every time ({@link RetainHandling#SEND}) get them again.
     */
    void connected(boolean sessionPresent) {
        for (Filter f : filters.values()) {
            if (f.pendingId != 0) {
                f.pendingId = 0;
                f.needsSubscribe = true;
            }
            if (sessionPresent && f.restored && f.everGranted && f.sentRounds == 0) {
                f.granted = true; // the broker kept the session, and with it the subscription of the earlier run
            }
            if (!sessionPresent) {
                f.granted = false;
                f.needsSubscribe = true;
                for (InboundSubscriber s : f.subscribers) {
                    if (s.spec.retainHandling() == RetainHandling.SEND) {
                        s.round = f.nextRound();
                    }
                }
            }
        }
    }

    /**
     * The filters a PUBLISH goes to.
     *
     * @param topic       its topic
     * @param identifiers its Subscription Identifiers (MQTT 5), empty if none
     */
    List<Filter> route(String topic, List<Integer> identifiers) {
        List<Filter> out = new ArrayList<>(2);
        route(topic, identifiers, out);
        return out;
    }

    /**
     * The filters a PUBLISH goes to, added to the caller's list (empty when called; the inbound path reuses one).
     *
     * @param topic       its topic
     * @param identifiers its Subscription Identifiers (MQTT 5), empty if none
     * @param out         receives the filters
     */
    void route(String topic, List<Integer> identifiers, List<Filter> out) {
        for (int i = 0; i < identifiers.size(); i++) {
            Filter f = byIdentifier.get(identifiers.get(i));
            if (f != null && TopicFilters.matches(f.matching, topic) && !out.contains(f)) {
                out.add(f);
            }
        }
        if (!out.isEmpty()) {
            return;
        }
        for (Filter f : filters.values()) {
            if (TopicFilters.matches(f.matching, topic)) {
                out.add(f);
            }
        }
    }

    /**
     * The subscribers of a filter a message goes to: all of them, except that a message with the RETAIN flag
     * (sent because of a SUBSCRIBE) goes only to those of the SUBSCRIBE's round that asked for it.
     */
    static void targets(Filter f, MqttMessage message, List<InboundSubscriber> out) {
        if (!message.retain() || f.retainAsPublished) {
            List<InboundSubscriber> all = f.subscribers;
            for (int i = 0; i < all.size(); i++) {
                out.add(all.get(i));
            }
            return;
        }
        int round = f.ackedRound;
        if (f.pendingId != 0 && noneIn(f, round)) {
            round = f.sentRounds; // a broker that sends the retained messages before its SUBACK
        }
        for (InboundSubscriber s : f.subscribers) {
            if (s.round == round && s.wantsRetained()) {
                out.add(s);
            }
        }
    }

    private static boolean noneIn(Filter f, int round) {
        for (InboundSubscriber s : f.subscribers) {
            if (s.round == round && s.wantsRetained()) {
                return false;
            }
        }
        return true;
    }

    private int freeIdentifier() {
        while (byIdentifier.containsKey(nextIdentifier)) {
            nextIdentifier = nextIdentifier >= MqttSubscription.MAX_SUBSCRIPTION_IDENTIFIER ? 1 : nextIdentifier + 1;
        }
        int id = nextIdentifier;
        nextIdentifier = nextIdentifier >= MqttSubscription.MAX_SUBSCRIPTION_IDENTIFIER ? 1 : nextIdentifier + 1;
        return id;
    }
}
