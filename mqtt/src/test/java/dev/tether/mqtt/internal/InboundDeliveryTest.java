package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.mqtt.MqttDelivery;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSubscription;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;

/**
 * Inbound delivery with real {@link InboundSubscriber}s under manual demand and a recording {@link AckWriter}:
 * when acknowledgements go out, in which order, and when reading pauses.
 */
class InboundDeliveryTest {

    private static final int CAPACITY = 4;

    /** Records what one connection was asked to write or do. */
    static final class Connection implements AckWriter {
        final List<String> acks = new ArrayList<>();
        final List<Boolean> pauses = new ArrayList<>();

        @Override
        public void queueAck(boolean qos2, int packetId) {
            acks.add((qos2 ? "PUBREC " : "PUBACK ") + packetId);
        }

        @Override
        public void queueComplete(int packetId, int reasonCode) {
            acks.add("PUBCOMP " + packetId + " 0x" + Integer.toHexString(reasonCode));
        }

        @Override
        public void pauseReading(boolean paused) {
            pauses.add(paused);
        }
    }

    /** A subscriber that requests only when told to. */
    static final class Probe implements CoreSubscriber<Object> {
        final List<Object> received = new ArrayList<>();
        @Nullable Subscription subscription;
        @Nullable Throwable error;
        boolean completed;

        @Override
        public void onSubscribe(Subscription s) {
            subscription = s;
        }

        @Override
        public void onNext(Object o) {
            received.add(o);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onComplete() {
            completed = true;
        }

        void request(long n) {
            subscription.request(n);
        }

        void cancel() {
            subscription.cancel();
        }

        List<String> payloads() {
            List<String> out = new ArrayList<>();
            for (Object o : received) {
                MqttMessage m = o instanceof MqttDelivery d ? d.message() : (MqttMessage) o;
                out.add(m.payloadAsString());
            }
            return out;
        }

        MqttDelivery delivery(int i) {
            return (MqttDelivery) received.get(i);
        }
    }

    private final SubscriptionRegistry registry = new SubscriptionRegistry();
    private final List<String[]> notices = new ArrayList<>();
    private final Map<Probe, InboundSubscriber> subscribers = new IdentityHashMap<>();
    private InboundDelivery delivery = new InboundDelivery(CAPACITY, InboundDelivery.Qos0Overflow.PAUSE_READING);

    /** Forwards to the delivery the way ClientCore's listener does (the client's monitor aside). */
    private final InboundSubscriber.Listener listener = new InboundSubscriber.Listener() {
        @Override
        public void released(InboundEntry entry) {
            delivery.released(entry);
        }

        @Override
        public void cancelled(InboundSubscriber s, List<InboundEntry> notEmitted) {
            List<InboundSubscriber> toDrain = new ArrayList<>();
            registry.remove(s);
            List<InboundEntry> all = new ArrayList<>(notEmitted);
            all.addAll(s.takeRemaining());
            delivery.abandoned(registry, all, toDrain);
            toDrain.forEach(InboundSubscriber::drain);
        }

        @Override
        public void saturated(boolean on) {
            delivery.saturated(on);
        }
    };

    private Connection connect(boolean sessionPresent) {
        return connect(sessionPresent, Integer.MAX_VALUE);
    }

    private Connection connect(boolean sessionPresent, int receiveMaximum) {
        Connection c = new Connection();
        delivery.connected(c, sessionPresent, receiveMaximum);
        return c;
    }

    private void disconnect(Connection c) {
        delivery.disconnected(c, List.copyOf(subscribers.values()));
    }

    private Probe subscribe(String filter) {
        return subscribe(filter, false, CAPACITY);
    }

    private Probe subscribe(String filter, boolean manual, int capacity) {
        Probe p = new Probe();
        InboundSubscriber s = new InboundSubscriber(p, MqttSubscription.of(filter, MqttQos.EXACTLY_ONCE), manual,
                capacity, listener);
        registry.add(s);
        delivery.claimHeld(s);
        subscribers.put(p, s);
        s.start();
        s.drain();
        return p;
    }

    private void publish(String topic, MqttQos qos, int packetId, String payload) {
        List<InboundSubscriber> toDrain = new ArrayList<>();
        delivery.onPublish(registry, MqttMessage.of(topic, payload, qos), packetId, List.of(), toDrain, notices);
        toDrain.forEach(InboundSubscriber::drain);
    }

    // ------------------------------------------------------------------ acknowledgement follows demand

    @Test
    void noAcknowledgementBeforeTheSubscriberRequests() {
        Connection c = connect(false);
        Probe p = subscribe("a/#");

        publish("a/b", MqttQos.AT_LEAST_ONCE, 1, "m1");
        assertThat(p.received).isEmpty();
        assertThat(c.acks).isEmpty();
        assertThat(delivery.unacknowledged()).isEqualTo(1);

        p.request(1);
        assertThat(p.payloads()).containsExactly("m1");
        assertThat(c.acks).containsExactly("PUBACK 1");
        assertThat(delivery.unacknowledged()).isZero();
    }

    @Test
    void acknowledgedOnEmissionWhenDemandIsThere() {
        Connection c = connect(false);
        Probe p = subscribe("a/#");
        p.request(Long.MAX_VALUE);

        publish("a/b", MqttQos.AT_LEAST_ONCE, 1, "m1");
        publish("a/c", MqttQos.EXACTLY_ONCE, 2, "m2");
        publish("a/d", MqttQos.AT_MOST_ONCE, 0, "m3");

        assertThat(p.payloads()).containsExactly("m1", "m2", "m3");
        assertThat(c.acks).containsExactly("PUBACK 1", "PUBREC 2");
    }

    @Test
    void acknowledgementsLeaveInArrivalOrderWhenALaterMessageIsReleasedFirst() {
        Connection c = connect(false);
        Probe slow = subscribe("a");
        Probe fast = subscribe("b");
        fast.request(10);

        publish("a", MqttQos.AT_LEAST_ONCE, 1, "first");
        publish("b", MqttQos.EXACTLY_ONCE, 2, "second");
        publish("b", MqttQos.AT_LEAST_ONCE, 3, "third");

        assertThat(fast.payloads()).containsExactly("second", "third");
        assertThat(c.acks).as("released, but the first message is not").isEmpty();

        slow.request(1);
        assertThat(c.acks).containsExactly("PUBACK 1", "PUBREC 2", "PUBACK 3");
    }

    @Test
    void aMessageForTwoSubscribersIsAcknowledgedAfterBoth() {
        Connection c = connect(false);
        Probe one = subscribe("a/#");
        Probe two = subscribe("a/+");

        publish("a/b", MqttQos.AT_LEAST_ONCE, 7, "m");
        one.request(1);
        assertThat(one.payloads()).containsExactly("m");
        assertThat(c.acks).isEmpty();

        two.request(1);
        assertThat(two.payloads()).containsExactly("m");
        assertThat(c.acks).containsExactly("PUBACK 7");
    }

    @Test
    void manualSubscriberAcknowledgesItself() {
        Connection c = connect(false);
        Probe p = subscribe("a/#", true, CAPACITY);
        p.request(10);

        publish("a/1", MqttQos.AT_LEAST_ONCE, 1, "m1");
        publish("a/2", MqttQos.EXACTLY_ONCE, 2, "m2");
        assertThat(p.payloads()).containsExactly("m1", "m2");
        assertThat(c.acks).as("emitted, not acknowledged").isEmpty();

        p.delivery(1).acknowledge();
        assertThat(p.delivery(1).isAcknowledged()).isTrue();
        assertThat(c.acks).as("the first is not acknowledged yet").isEmpty();

        p.delivery(0).acknowledge();
        assertThat(c.acks).containsExactly("PUBACK 1", "PUBREC 2");

        p.delivery(0).acknowledge();
        p.delivery(1).acknowledge();
        assertThat(c.acks).as("acknowledge is idempotent").containsExactly("PUBACK 1", "PUBREC 2");
    }

    @Test
    void manualAndAutomaticSubscribersOfOneMessage() {
        Connection c = connect(false);
        Probe manual = subscribe("a/#", true, CAPACITY);
        Probe auto = subscribe("a/b");
        manual.request(1);
        auto.request(1);

        publish("a/b", MqttQos.AT_LEAST_ONCE, 1, "m");
        assertThat(auto.payloads()).containsExactly("m");
        assertThat(c.acks).isEmpty();

        manual.delivery(0).acknowledge();
        assertThat(c.acks).containsExactly("PUBACK 1");
    }

    @Test
    void acknowledgeAfterTheConnectionEndedSendsNothing() {
        Connection c1 = connect(false);
        Probe p = subscribe("a", true, CAPACITY);
        p.request(1);
        publish("a", MqttQos.AT_LEAST_ONCE, 1, "m");

        disconnect(c1);
        Connection c2 = connect(true);
        p.delivery(0).acknowledge();

        assertThat(c1.acks).isEmpty();
        assertThat(c2.acks).isEmpty();
        assertThat(delivery.unacknowledged()).isZero();
    }

    // ------------------------------------------------------------------ messages that match no subscriber

    @Test
    void unmatchedQos1IsHeldAndHandedToTheNextMatchingSubscriber() {
        Connection c = connect(true);
        publish("x/y", MqttQos.AT_LEAST_ONCE, 1, "early");
        assertThat(delivery.held()).isEqualTo(1);
        assertThat(c.acks).isEmpty();

        Probe other = subscribe("z/#");
        other.request(10);
        assertThat(delivery.held()).as("another filter does not take it").isEqualTo(1);
        assertThat(other.received).isEmpty();

        Probe p = subscribe("x/+");
        assertThat(delivery.held()).isZero();
        assertThat(c.acks).as("handed over, not emitted yet").isEmpty();

        p.request(1);
        assertThat(p.payloads()).containsExactly("early");
        assertThat(c.acks).containsExactly("PUBACK 1");
    }

    @Test
    void heldMessagesKeepTheirPlaceInTheAcknowledgementOrder() {
        Connection c = connect(true);
        Probe b = subscribe("b");
        b.request(10);
        publish("a", MqttQos.AT_LEAST_ONCE, 1, "held");
        publish("b", MqttQos.AT_LEAST_ONCE, 2, "live");
        assertThat(b.payloads()).containsExactly("live");
        assertThat(c.acks).isEmpty();

        Probe a = subscribe("a");
        a.request(1);
        assertThat(c.acks).containsExactly("PUBACK 1", "PUBACK 2");
    }

    @Test
    void unmatchedQos0IsDroppedAndCounted() {
        Connection c = connect(false);
        publish("nobody", MqttQos.AT_MOST_ONCE, 0, "lost");
        publish("nobody", MqttQos.AT_MOST_ONCE, 0, "lost too");

        assertThat(delivery.droppedQos0()).isEqualTo(2);
        assertThat(delivery.held()).isZero();
        assertThat(notices).hasSize(1);
        assertThat(notices.get(0)[0]).isEqualTo("inbound-dropped");
        assertThat(notices.get(0)[1]).contains("matches no subscription");

        Probe p = subscribe("nobody");
        p.request(10);
        assertThat(p.received).isEmpty();
        assertThat(c.acks).isEmpty();
    }

    @Test
    void fullHoldPausesReadingAndAClaimResumesIt() {
        delivery = new InboundDelivery(2, InboundDelivery.Qos0Overflow.PAUSE_READING);
        Connection c = connect(true);
        publish("h", MqttQos.AT_LEAST_ONCE, 1, "1");
        assertThat(c.pauses).isEmpty();
        publish("h", MqttQos.AT_LEAST_ONCE, 2, "2");
        assertThat(c.pauses).containsExactly(true);

        Probe p = subscribe("h");
        assertThat(c.pauses).containsExactly(true, false);
        p.request(2);
        assertThat(c.acks).containsExactly("PUBACK 1", "PUBACK 2");
    }

    @Test
    void aHoldEmptiedByADisconnectDoesNotPauseTheNextConnection() {
        delivery = new InboundDelivery(2, InboundDelivery.Qos0Overflow.PAUSE_READING);
        Connection c1 = connect(true);
        publish("h", MqttQos.AT_LEAST_ONCE, 1, "1");
        publish("h", MqttQos.AT_LEAST_ONCE, 2, "2");
        assertThat(c1.pauses).containsExactly(true);

        disconnect(c1);
        assertThat(delivery.held()).isZero();

        Connection c2 = connect(true);
        assertThat(c2.pauses).as("nothing is held any more").isEmpty();
        assertThat(delivery.readingPaused()).isFalse();
    }

    // ------------------------------------------------------------------ protocol limits and QoS 2

    @Test
    void receiveMaximumExceededIsReportedOnceAndTheMessageStillDelivered() {
        Connection c = connect(false, 2);
        Probe p = subscribe("a");
        publish("a", MqttQos.AT_LEAST_ONCE, 1, "1");
        publish("a", MqttQos.EXACTLY_ONCE, 2, "2");
        publish("a", MqttQos.AT_MOST_ONCE, 0, "qos 0 does not count");
        assertThat(notices).isEmpty();

        publish("a", MqttQos.AT_LEAST_ONCE, 3, "3");
        publish("a", MqttQos.AT_LEAST_ONCE, 4, "4");
        assertThat(notices).hasSize(1);
        assertThat(notices.get(0)[0]).isEqualTo("receive-maximum-exceeded");
        assertThat(notices.get(0)[1]).contains("Receive Maximum of 2");

        p.request(Long.MAX_VALUE);
        assertThat(c.acks).containsExactly("PUBACK 1", "PUBREC 2", "PUBACK 3", "PUBACK 4");
    }

    @Test
    void aPubrelBeforeThePubrecIsPrematureAndReleasesNothing() {
        Connection c = connect(false);
        Probe p = subscribe("a");
        publish("a", MqttQos.EXACTLY_ONCE, 9, "not yet emitted");
        assertThat(delivery.onPubRel(9)).isEqualTo(InboundDelivery.Release.PREMATURE);
        assertThat(c.acks).isEmpty();
        p.request(1);
        assertThat(c.acks).containsExactly("PUBREC 9");
        assertThat(delivery.onPubRel(9)).isEqualTo(InboundDelivery.Release.RELEASED);
        assertThat(delivery.onPubRel(77)).isEqualTo(InboundDelivery.Release.UNKNOWN);
    }

    @Test
    void qos2RedeliveryAfterAReconnectIsAcknowledgedButNotDeliveredTwice() {
        Connection c1 = connect(false);
        Probe p = subscribe("a");
        p.request(10);
        publish("a", MqttQos.EXACTLY_ONCE, 5, "once");
        assertThat(c1.acks).containsExactly("PUBREC 5");

        disconnect(c1); // the PUBREC may never have reached the broker
        Connection c2 = connect(true);
        publish("a", MqttQos.EXACTLY_ONCE, 5, "once");

        assertThat(p.payloads()).containsExactly("once");
        assertThat(c2.acks).containsExactly("PUBREC 5");

        assertThat(delivery.onPubRel(5)).isEqualTo(InboundDelivery.Release.RELEASED);
        assertThat(delivery.onPubRel(5)).as("released twice").isEqualTo(InboundDelivery.Release.UNKNOWN);
        publish("a", MqttQos.EXACTLY_ONCE, 5, "new message, same id");
        assertThat(p.payloads()).containsExactly("once", "new message, same id");
        assertThat(c2.acks).containsExactly("PUBREC 5", "PUBREC 5");
    }

    @Test
    void qos2RedeliveryWaitsForTheSubscriberThatHasNotHadTheFirstCopy() {
        Connection c1 = connect(false);
        Probe fast = subscribe("a/#");
        Probe slow = subscribe("a/b");
        fast.request(10);
        publish("a/b", MqttQos.EXACTLY_ONCE, 9, "m");
        assertThat(fast.payloads()).containsExactly("m");

        disconnect(c1);
        Connection c2 = connect(true);
        publish("a/b", MqttQos.EXACTLY_ONCE, 9, "m");
        assertThat(fast.payloads()).as("not delivered twice").containsExactly("m");
        assertThat(c2.acks).as("the first copy is not released yet").isEmpty();

        slow.request(10);
        assertThat(slow.payloads()).containsExactly("m");
        assertThat(c2.acks).containsExactly("PUBREC 9");
        assertThat(c1.acks).isEmpty();
    }

    @Test
    void withoutASessionAQos2IdIsNew() {
        Connection c1 = connect(false);
        Probe p = subscribe("a");
        p.request(10);
        publish("a", MqttQos.EXACTLY_ONCE, 5, "first");
        disconnect(c1);

        Connection c2 = connect(false);
        publish("a", MqttQos.EXACTLY_ONCE, 5, "second");
        assertThat(p.payloads()).containsExactly("first", "second");
        assertThat(c2.acks).containsExactly("PUBREC 5");
    }

    // ------------------------------------------------------------------ disconnect

    @Test
    void disconnectWithdrawsWhatNoSubscriberHadYet() {
        Connection c1 = connect(false);
        Probe p = subscribe("a");
        publish("a", MqttQos.AT_LEAST_ONCE, 1, "q1");
        publish("a", MqttQos.EXACTLY_ONCE, 2, "q2");
        publish("a", MqttQos.AT_MOST_ONCE, 0, "q0");
        assertThat(subscribers.get(p).buffered()).isEqualTo(3);

        disconnect(c1);
        assertThat(subscribers.get(p).buffered()).as("the QoS 1 and 2 messages are purged").isEqualTo(1);
        assertThat(delivery.unacknowledged()).isZero();

        Connection c2 = connect(true);
        p.request(10);
        assertThat(p.payloads()).containsExactly("q0");
        assertThat(c1.acks).isEmpty();
        assertThat(c2.acks).isEmpty();

        // The broker redelivers them: they are new to the client (the QoS 2 id was forgotten with the withdrawal).
        publish("a", MqttQos.AT_LEAST_ONCE, 1, "q1");
        publish("a", MqttQos.EXACTLY_ONCE, 2, "q2");
        assertThat(p.payloads()).containsExactly("q0", "q1", "q2");
        assertThat(c2.acks).containsExactly("PUBACK 1", "PUBREC 2");
    }

    @Test
    void disconnectKeepsWhatOneSubscriberAlreadyHadForTheOthers() {
        Connection c1 = connect(false);
        Probe one = subscribe("a");
        Probe two = subscribe("a/#");
        one.request(1);
        publish("a", MqttQos.AT_LEAST_ONCE, 1, "m");

        disconnect(c1);
        Connection c2 = connect(true);
        two.request(1);
        assertThat(two.payloads()).containsExactly("m");
        assertThat(c1.acks).isEmpty();
        assertThat(c2.acks).as("acknowledged on the connection it came on only").isEmpty();
    }

    @Test
    void disconnectReleasesTheReadPauseOfPurgedBuffers() {
        Connection c1 = connect(false);
        Probe p = subscribe("a");
        for (int i = 1; i <= CAPACITY; i++) {
            publish("a", MqttQos.AT_LEAST_ONCE, i, "m" + i);
        }
        assertThat(c1.pauses).containsExactly(true);

        disconnect(c1);
        assertThat(subscribers.get(p).buffered()).isZero();
        Connection c2 = connect(true);
        assertThat(c2.pauses).isEmpty();
    }

    // ------------------------------------------------------------------ buffers

    @Test
    void fullBufferPausesReadingAndDrainingBelowHalfResumes() {
        Connection c = connect(false);
        Probe p = subscribe("a");
        for (int i = 1; i < CAPACITY; i++) {
            publish("a", MqttQos.AT_LEAST_ONCE, i, "m" + i);
        }
        assertThat(c.pauses).isEmpty();
        publish("a", MqttQos.AT_LEAST_ONCE, CAPACITY, "m" + CAPACITY);
        assertThat(c.pauses).containsExactly(true);
        assertThat(delivery.readingPaused()).isTrue();

        p.request(1); // 3 left, above half
        assertThat(c.pauses).containsExactly(true);
        p.request(1); // 2 left: half
        assertThat(c.pauses).containsExactly(true, false);
        assertThat(delivery.readingPaused()).isFalse();
        assertThat(c.acks).containsExactly("PUBACK 1", "PUBACK 2");
    }

    @Test
    void readingStaysPausedWhileAnySubscriberIsFull() {
        Connection c = connect(false);
        Probe one = subscribe("a");
        Probe two = subscribe("a/#");
        for (int i = 1; i <= CAPACITY; i++) {
            publish("a", MqttQos.AT_MOST_ONCE, 0, "m" + i);
        }
        assertThat(c.pauses).containsExactly(true);

        one.request(CAPACITY);
        assertThat(c.pauses).as("the other is still full").containsExactly(true);
        two.request(CAPACITY);
        assertThat(c.pauses).containsExactly(true, false);
    }

    @Test
    void aConnectionAcceptedWhileABufferIsFullStartsPaused() {
        Connection c1 = connect(false);
        Probe p = subscribe("a");
        for (int i = 1; i <= CAPACITY; i++) {
            publish("a", MqttQos.AT_MOST_ONCE, 0, "m" + i);
        }
        disconnect(c1);
        Connection c2 = connect(true);
        assertThat(c2.pauses).containsExactly(true);
        p.request(CAPACITY);
        assertThat(c2.pauses).containsExactly(true, false);
    }

    @Test
    void dropQos0PolicyDropsInsteadOfPausing() {
        delivery = new InboundDelivery(CAPACITY, InboundDelivery.Qos0Overflow.DROP);
        Connection c = connect(false);
        Probe slow = subscribe("a", false, 2);
        Probe fast = subscribe("a/#", false, 2);
        fast.request(Long.MAX_VALUE);

        for (int i = 1; i <= 5; i++) {
            publish("a", MqttQos.AT_MOST_ONCE, 0, "m" + i);
        }
        assertThat(fast.payloads()).containsExactly("m1", "m2", "m3", "m4", "m5");
        assertThat(c.pauses).as("a slow QoS 0 subscriber does not slow the others").isEmpty();
        assertThat(delivery.droppedQos0()).isEqualTo(3);
        assertThat(notices).hasSize(1);
        assertThat(notices.get(0)[1]).contains("buffer of 2 messages is full");

        slow.request(10);
        assertThat(slow.payloads()).containsExactly("m1", "m2");
    }

    @Test
    void dropQos0PolicyNeverDropsQos1() {
        delivery = new InboundDelivery(CAPACITY, InboundDelivery.Qos0Overflow.DROP);
        Connection c = connect(false);
        Probe p = subscribe("a", false, 2);
        publish("a", MqttQos.AT_MOST_ONCE, 0, "q0");
        publish("a", MqttQos.AT_MOST_ONCE, 0, "q0 again");
        publish("a", MqttQos.AT_LEAST_ONCE, 1, "q1");
        assertThat(c.pauses).as("QoS 1 over a full buffer pauses").containsExactly(true);
        assertThat(delivery.droppedQos0()).isZero();

        p.request(10);
        assertThat(p.payloads()).containsExactly("q0", "q0 again", "q1");
        assertThat(c.pauses).containsExactly(true, false);
        assertThat(c.acks).containsExactly("PUBACK 1");
    }

    // ------------------------------------------------------------------ cancellation

    @Test
    void aCancelledSubscribersUnemittedMessageGoesBackToTheHold() {
        Connection c = connect(true);
        Probe first = subscribe("a");
        publish("a", MqttQos.AT_LEAST_ONCE, 1, "m");
        first.cancel();
        assertThat(delivery.held()).isEqualTo(1);
        assertThat(c.acks).isEmpty();

        Probe next = subscribe("a");
        next.request(1);
        assertThat(next.payloads()).containsExactly("m");
        assertThat(c.acks).containsExactly("PUBACK 1");
    }

    @Test
    void aCancelledSubscriberNoLongerHoldsTheAcknowledgementBack() {
        Connection c = connect(false);
        Probe gone = subscribe("a");
        Probe stays = subscribe("a/#");
        publish("a", MqttQos.AT_LEAST_ONCE, 1, "m");
        stays.request(1);
        assertThat(c.acks).isEmpty();

        gone.cancel();
        assertThat(c.acks).containsExactly("PUBACK 1");
        assertThat(gone.received).isEmpty();
    }
}
