package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSubscription;
import dev.tether.mqtt.RetainHandling;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.BaseSubscriber;

/**
 * The subscription registry on its own: when a SUBSCRIBE must go out, which subscribers the retained messages
 * of a round go to, option conflicts, and routing by Subscription Identifier or topic.
 */
class SubscriptionRegistryTest {

    private static final InboundSubscriber.Listener IGNORED = new InboundSubscriber.Listener() {
        @Override
        public void released(InboundEntry entry) {
        }

        @Override
        public void cancelled(InboundSubscriber subscriber, List<InboundEntry> notEmitted) {
        }

        @Override
        public void saturated(boolean on) {
        }
    };

    private final SubscriptionRegistry registry = new SubscriptionRegistry();
    private int nextPacketId = 100;

    private static InboundSubscriber subscriber(MqttSubscription spec) {
        return new InboundSubscriber(new BaseSubscriber<Object>() { }, spec, false, 16, IGNORED);
    }

    private static InboundSubscriber subscriber(String filter, MqttQos qos, RetainHandling handling) {
        return subscriber(MqttSubscription.builder(filter).qos(qos).retainHandling(handling).build());
    }

    /** What ClientCore does when it sends the SUBSCRIBE: the round it opens, and its Retain Handling on the wire. */
    private int subscribe(SubscriptionRegistry.Filter f) {
        int round = registry.subscribing(f, nextPacketId++);
        return round;
    }

    /** What ClientCore does on a successful SUBACK. */
    private static void subAck(SubscriptionRegistry.Filter f, int round) {
        f.pendingId = 0;
        f.granted = true;
        f.everGranted = true;
        f.ackedRound = round;
    }

    private static List<InboundSubscriber> targets(SubscriptionRegistry.Filter f, boolean retained) {
        List<InboundSubscriber> out = new ArrayList<>();
        MqttMessage m = MqttMessage.builder("a/b").qos(MqttQos.AT_LEAST_ONCE).retain(retained).build();
        SubscriptionRegistry.targets(f, m, out);
        return out;
    }

    // ------------------------------------------------------------------ restored from the session store

    @Test
    void aRestoredFilterIsSentOnlyWithoutTheSessionAndTheFirstSubscriberJoinsIt() {
        registry.restore(MqttSubscription.builder("a/#").qos(MqttQos.EXACTLY_ONCE).subscriptionIdentifier(42).build());
        SubscriptionRegistry.Filter f = registry.route("a/b", List.of(42)).get(0);
        assertThat(f.subscribers).isEmpty();
        assertThat(f.needsSubscribe).as("nothing to send before the broker says whether it kept the session").isFalse();
        registry.connected(true);
        assertThat(f.needsSubscribe).isFalse();
        assertThat(f.granted).isTrue();
        registry.connected(false);
        assertThat(f.needsSubscribe).as("no session: subscribed again").isTrue();
        assertThat(f.wireRetainHandling(f.nextRound())).as("nobody asked for retained messages yet")
                .isEqualTo(RetainHandling.DO_NOT_SEND);
        InboundSubscriber s = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.DO_NOT_SEND);
        assertThat(registry.add(s)).as("joins the restored filter").isSameAs(f);
        assertThat(f.qos).isEqualTo(MqttQos.EXACTLY_ONCE);
        assertThat(f.identifier).isEqualTo(42);
        assertThat(f.restored).isFalse();
    }

    @Test
    void aSubscriberWithOtherOptionsReplacesARestoredFilterNobodyJoined() {
        registry.restore(MqttSubscription.builder("a/#").qos(MqttQos.AT_LEAST_ONCE).subscriptionIdentifier(5).build());
        InboundSubscriber s = subscriber(MqttSubscription.builder("a/#").noLocal(true).subscriptionIdentifier(6).build());
        SubscriptionRegistry.Filter f = registry.add(s);
        assertThat(f.noLocal).isTrue();
        assertThat(f.identifier).isEqualTo(6);
        assertThat(f.needsSubscribe).isTrue();
        assertThat(registry.all()).containsExactly(f);
    }

    // ------------------------------------------------------------------ rounds and retained messages

    @Test
    void aJoinerThatWantsRetainedGetsOnlyTheRetainedMessagesOfItsRound() {
        InboundSubscriber first = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND);
        SubscriptionRegistry.Filter f = registry.add(first);
        assertThat(f.needsSubscribe).isTrue();
        int round1 = subscribe(f);
        assertThat(f.wireRetainHandling(round1)).isEqualTo(RetainHandling.SEND);
        subAck(f, round1);
        assertThat(targets(f, true)).containsExactly(first);

        InboundSubscriber second = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND);
        assertThat(registry.add(second)).isSameAs(f);
        assertThat(f.needsSubscribe).as("the joiner's retained messages need a SUBSCRIBE").isTrue();
        int round2 = subscribe(f);
        assertThat(round2).isEqualTo(round1 + 1);
        assertThat(f.wireRetainHandling(round2)).isEqualTo(RetainHandling.SEND);
        subAck(f, round2);

        assertThat(targets(f, true)).as("the retained messages of round 2").containsExactly(second);
        assertThat(targets(f, false)).as("live messages go to both").containsExactly(first, second);
        assertThat(f.needsSubscribe).isFalse();
    }

    @Test
    void retainedMessagesBeforeTheFirstSubAckGoToTheRoundInFlight() {
        InboundSubscriber first = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND);
        SubscriptionRegistry.Filter f = registry.add(first);
        subscribe(f); // no SUBACK yet: a broker may send the retained messages first
        assertThat(targets(f, true)).containsExactly(first);
    }

    @Test
    void aHigherQosJoinerTriggersASubscribe() {
        InboundSubscriber first = subscriber("a/#", MqttQos.AT_MOST_ONCE, RetainHandling.DO_NOT_SEND);
        SubscriptionRegistry.Filter f = registry.add(first);
        subAck(f, subscribe(f));

        registry.add(subscriber("a/#", MqttQos.AT_MOST_ONCE, RetainHandling.DO_NOT_SEND));
        assertThat(f.needsSubscribe).as("same QoS, no retained messages wanted").isFalse();

        registry.add(subscriber("a/#", MqttQos.EXACTLY_ONCE, RetainHandling.DO_NOT_SEND));
        assertThat(f.needsSubscribe).isTrue();
        assertThat(f.qos).isEqualTo(MqttQos.EXACTLY_ONCE);
        int round = subscribe(f);
        assertThat(f.wireRetainHandling(round)).as("nobody in this round wants retained messages")
                .isEqualTo(RetainHandling.DO_NOT_SEND);

        registry.add(subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.DO_NOT_SEND));
        assertThat(f.needsSubscribe).as("a lower QoS changes nothing").isFalse();
        assertThat(f.qos).isEqualTo(MqttQos.EXACTLY_ONCE);
    }

    @Test
    void aDoNotSendJoinerNeedsNoSubscribeAndGetsNoRetainedMessages() {
        InboundSubscriber first = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND);
        SubscriptionRegistry.Filter f = registry.add(first);
        subAck(f, subscribe(f));

        InboundSubscriber joiner = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.DO_NOT_SEND);
        registry.add(joiner);
        assertThat(f.needsSubscribe).isFalse();
        assertThat(targets(f, true)).containsExactly(first);
        assertThat(targets(f, false)).containsExactly(first, joiner);
    }

    @Test
    void aJoinerWhileASubscribeIsInFlightWaitsForTheNextRound() {
        InboundSubscriber first = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND);
        SubscriptionRegistry.Filter f = registry.add(first);
        int round1 = subscribe(f);

        InboundSubscriber second = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND);
        registry.add(second);
        assertThat(f.needsSubscribe).isTrue();
        subAck(f, round1);
        assertThat(targets(f, true)).containsExactly(first);

        subAck(f, subscribe(f));
        assertThat(targets(f, true)).containsExactly(second);
    }

    @Test
    void retainAsPublishedFilterNeedsNoSubscribeForAJoinerAndKeepsTheFlag() {
        MqttSubscription spec = MqttSubscription.builder("a/#").retainAsPublished(true).build();
        InboundSubscriber first = subscriber(spec);
        SubscriptionRegistry.Filter f = registry.add(first);
        subAck(f, subscribe(f));

        InboundSubscriber joiner = subscriber(spec);
        registry.add(joiner);
        assertThat(f.needsSubscribe).isFalse();
        assertThat(f.wireRetainHandling(f.nextRound())).isEqualTo(RetainHandling.DO_NOT_SEND);
        assertThat(targets(f, true)).as("RETAIN is the publisher's flag here").containsExactly(first, joiner);
    }

    @Test
    void conflictingOptionsAreRefusedNamingTheFilter() {
        InboundSubscriber first = subscriber(MqttSubscription.builder("a/b").build());
        SubscriptionRegistry.Filter f = registry.add(first);

        assertThatThrownBy(() -> registry.add(subscriber(MqttSubscription.builder("a/b").noLocal(true).build())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a/b'")
                .hasMessageContaining("noLocal=false")
                .hasMessageContaining("noLocal=true");
        assertThatThrownBy(() -> registry.add(subscriber(MqttSubscription.builder("a/b").retainAsPublished(true).build())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a/b'")
                .hasMessageContaining("retainAsPublished=true");
        assertThat(f.subscribers).containsExactly(first);
    }

    @Test
    void aConflictingSubscriptionIdentifierIsRefused() {
        registry.add(subscriber(MqttSubscription.builder("a").subscriptionIdentifier(7).build()));
        assertThatThrownBy(() -> registry.add(subscriber(MqttSubscription.builder("b").subscriptionIdentifier(7).build())))
                .hasMessageContaining("subscriptionIdentifier 7")
                .hasMessageContaining("'a'")
                .hasMessageContaining("'b'");
        assertThatThrownBy(() -> registry.add(subscriber(MqttSubscription.builder("a").subscriptionIdentifier(8).build())))
                .hasMessageContaining("'a'")
                .hasMessageContaining("identifier 7, not 8");
    }

    // ------------------------------------------------------------------ routing

    @Test
    void routingByIdentifierAvoidsDuplicatesForOverlappingFilters() {
        SubscriptionRegistry.Filter all = registry.add(subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND));
        SubscriptionRegistry.Filter one = registry.add(subscriber("a/+", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND));
        assertThat(all.identifier).isNotEqualTo(one.identifier);

        assertThat(registry.route("a/b", List.of(all.identifier))).containsExactly(all);
        assertThat(registry.route("a/b", List.of(one.identifier))).containsExactly(one);
        assertThat(registry.route("a/b", List.of(one.identifier, all.identifier))).containsExactly(one, all);
        assertThat(registry.route("a/b", List.of(all.identifier, all.identifier))).containsExactly(all);
        assertThat(registry.route("a/b", List.of())).containsExactly(all, one);
    }

    @Test
    void unknownOrNonMatchingIdentifierFallsBackToTopicMatching() {
        SubscriptionRegistry.Filter all = registry.add(subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND));
        SubscriptionRegistry.Filter one = registry.add(subscriber("a/+", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND));
        SubscriptionRegistry.Filter other = registry.add(subscriber("x/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND));

        assertThat(registry.route("a/b", List.of(9_999))).as("an identifier from an earlier run").containsExactly(all, one);
        assertThat(registry.route("a/b", List.of(other.identifier))).as("its filter does not match the topic")
                .containsExactly(all, one);
        assertThat(registry.route("a/b", List.of(other.identifier, one.identifier))).containsExactly(one);
        assertThat(registry.route("nothing", List.of(all.identifier))).isEmpty();
    }

    @Test
    void aRemovedFiltersIdentifierNoLongerRoutes() {
        InboundSubscriber s = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND);
        SubscriptionRegistry.Filter all = registry.add(s);
        SubscriptionRegistry.Filter one = registry.add(subscriber("a/+", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND));

        assertThat(registry.remove(s)).isSameAs(all);
        assertThat(registry.contains(all)).isFalse();
        assertThat(registry.route("a/b", List.of(all.identifier))).containsExactly(one);
    }

    @Test
    void sharedSubscriptionRoutesOnItsFilterPart() {
        SubscriptionRegistry.Filter f = registry.add(subscriber("$share/g/a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND));
        assertThat(f.filter).isEqualTo("$share/g/a/#");
        assertThat(f.matching).isEqualTo("a/#");

        assertThat(registry.route("a/b", List.of())).containsExactly(f);
        assertThat(registry.route("a/b", List.of(f.identifier))).containsExactly(f);
        assertThat(registry.route("$share/g/a/b", List.of())).isEmpty();
        assertThat(registry.route("b", List.of())).isEmpty();
    }

    // ------------------------------------------------------------------ reconnects

    @Test
    void aNewSessionMakesSendSubscribersDueAgainButNotSendIfNew() {
        InboundSubscriber send = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND);
        InboundSubscriber ifNew = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND_IF_NEW);
        SubscriptionRegistry.Filter f = registry.add(send);
        registry.add(ifNew);
        int round1 = subscribe(f);
        subAck(f, round1);
        assertThat(targets(f, true)).containsExactly(send, ifNew);

        registry.connected(false);
        assertThat(f.needsSubscribe).isTrue();
        assertThat(f.granted).isFalse();
        int round2 = subscribe(f);
        assertThat(f.wireRetainHandling(round2)).isEqualTo(RetainHandling.SEND);
        subAck(f, round2);
        assertThat(targets(f, true)).containsExactly(send);
    }

    @Test
    void aNewSessionWithOnlySendIfNewSubscribersAsksForNoRetainedMessages() {
        InboundSubscriber ifNew = subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND_IF_NEW);
        SubscriptionRegistry.Filter f = registry.add(ifNew);
        subAck(f, subscribe(f));

        registry.connected(false);
        int round2 = subscribe(f);
        assertThat(f.wireRetainHandling(round2)).isEqualTo(RetainHandling.DO_NOT_SEND);
        subAck(f, round2);
        assertThat(targets(f, true)).isEmpty();
    }

    @Test
    void aKeptSessionNeedsNoSubscribeUnlessOneWasInFlight() {
        SubscriptionRegistry.Filter done = registry.add(subscriber("a/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND));
        subAck(done, subscribe(done));
        InboundSubscriber waiting = subscriber("b/#", MqttQos.AT_LEAST_ONCE, RetainHandling.SEND);
        SubscriptionRegistry.Filter lost = registry.add(waiting);
        int lostRound = subscribe(lost);

        registry.connected(true);
        assertThat(done.needsSubscribe).isFalse();
        assertThat(lost.needsSubscribe).isTrue();
        assertThat(lost.pendingId).isZero();

        int again = subscribe(lost);
        assertThat(again).isGreaterThan(lostRound);
        assertThat(lost.wireRetainHandling(again)).as("its subscriber still waits for the retained messages")
                .isEqualTo(RetainHandling.SEND);
        subAck(lost, again);
        assertThat(targets(lost, true)).containsExactly(waiting);
    }
}
