package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttRefusedException;
import dev.tether.mqtt.MqttSubscription;
import dev.tether.mqtt.MqttVersion;
import dev.tether.mqtt.RetainHandling;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.BaseSubscriber;

/**
 * SUBSCRIBE and UNSUBSCRIBE against a recording {@link SubscribeWriter}, no broker: when they go out, what a
 * SUBACK does, and what a new connection sends again.
 */
class SubscribeFlowIT {

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

    /** Records what one connection was asked to write. */
    static final class Writer implements SubscribeWriter {
        final List<String> wrote = new ArrayList<>();
        final List<String> notices = new ArrayList<>();
        boolean canSend = true;

        @Override
        public boolean canSend() {
            return canSend;
        }

        @Override
        public void writeSubscribe(int packetId, String filter, MqttQos qos, boolean noLocal, boolean retainAsPublished,
                                   RetainHandling retainHandling, int subscriptionIdentifier) {
            wrote.add("SUBSCRIBE " + packetId + " " + filter + " qos=" + qos.value() + " id=" + subscriptionIdentifier);
        }

        @Override
        public void writeUnsubscribe(int packetId, List<String> filters) {
            wrote.add("UNSUBSCRIBE " + packetId + " " + filters);
        }

        @Override
        public void reportNotice(String kind, String details) {
            notices.add(kind + ": " + details);
        }
    }

    /** Remembers how its stream ended. */
    static final class Probe extends BaseSubscriber<Object> {
        Throwable error;

        @Override
        protected void hookOnError(Throwable throwable) {
            error = throwable;
        }
    }

    private final PacketIds ids = new PacketIds();
    private final SubscriptionRegistry registry = new SubscriptionRegistry();
    private final SubscribeFlow flow = new SubscribeFlow(ids, registry);
    private final List<Runnable> after = new ArrayList<>();

    private static NegotiatedSession session(boolean present, boolean subscriptionIdentifiers) {
        return new NegotiatedSession(MqttVersion.MQTT_5, present, "c", Duration.ofSeconds(60), 0xFFFF,
                MqttQos.EXACTLY_ONCE, true, Optional.empty(), "tcp", subscriptionIdentifiers, true);
    }

    private InboundSubscriber subscribe(String filter, Probe probe, SubscribeWriter c) {
        InboundSubscriber s = new InboundSubscriber(probe, MqttSubscription.of(filter, MqttQos.AT_LEAST_ONCE), false, 16, IGNORED);
        SubscriptionRegistry.Filter f = flow.add(s);
        flow.subscribeIfNeeded(f, c, after);
        s.start();
        return s;
    }

    private void connect(Writer c, boolean sessionPresent) {
        flow.connecting(session(sessionPresent, true));
        flow.resubscribe(c, sessionPresent, after);
    }

    private void runAfter() {
        List<Runnable> copy = List.copyOf(after);
        after.clear();
        copy.forEach(Runnable::run);
    }

    @Test
    void aSubscribeGoesOutOnceAConnectionCanSendAndItsSubackIsReported() {
        Writer offline = new Writer();
        offline.canSend = false;
        subscribe("a/#", new Probe(), offline);
        assertThat(offline.wrote).isEmpty();

        Writer c = new Writer();
        connect(c, false);
        assertThat(c.wrote).containsExactly("SUBSCRIBE 1 a/# qos=1 id=1");
        assertThat(flow.onSubAck(c, 1, List.of(1), after)).isTrue();
        runAfter();

        assertThat(c.notices).containsExactly("subscribed: subscribed [a/# -> granted QoS 1]");
        assertThat(ids.inUse()).isZero();
        assertThat(flow.onSubAck(c, 1, List.of(1), after)).as("answered already").isFalse();
    }

    @Test
    void withoutSubscriptionIdentifiersTheSubscribeCarriesNone() {
        Writer c = new Writer();
        flow.connecting(session(false, false));
        flow.resubscribe(c, false, after);
        subscribe("a/#", new Probe(), c);

        assertThat(c.wrote).containsExactly("SUBSCRIBE 1 a/# qos=1 id=0");
    }

    @Test
    void aRefusedSubscriptionFailsItsSubscribersAndIsForgotten() {
        Writer c = new Writer();
        connect(c, false);
        Probe probe = new Probe();
        subscribe("$share/g/a", probe, c);

        assertThat(flow.onSubAck(c, 1, List.of(0x9E), after)).isTrue();
        runAfter();

        assertThat(probe.error).isInstanceOf(MqttRefusedException.class).hasMessage("the broker refused the subscription "
                + "to '$share/g/a' with code 0x9E; check that the broker supports shared subscriptions, the filter and the "
                + "broker's authorization rules");
        assertThat(registry.all()).isEmpty();
        assertThat(c.notices).containsExactly("subscribed: subscribed [$share/g/a -> refused 0x9E]");
    }

    @Test
    void aSubackWithSeveralCodesIsRefused() {
        Writer c = new Writer();
        connect(c, false);
        subscribe("a", new Probe(), c);

        assertThat(flow.onSubAck(c, 1, List.of(0, 0), after)).isFalse();
    }

    @Test
    void aSubscribeThatFindsNoPacketIdWaitsSaysSoAndGoesOutWhenAnIdFreesUp() {
        Writer c = new Writer();
        connect(c, false);
        // Every id in use, as by 65535 publishes in flight.
        for (int i = 0; i < PacketIds.MAX; i++) {
            ids.allocate();
        }
        Probe probe = new Probe();
        subscribe("a/#", probe, c);
        runAfter();
        assertThat(c.wrote).isEmpty();
        assertThat(flow.waitingForIds()).isTrue();
        assertThat(c.notices).singleElement().asString().startsWith("subscribe-waiting: SUBSCRIBE of 'a/#' waits");

        flow.retryWaiting(c, after);
        runAfter();
        assertThat(c.wrote).as("still no id").isEmpty();
        assertThat(c.notices).as("said once").hasSize(1);

        ids.release(7);   // a PUBACK frees id 7
        flow.retryWaiting(c, after);
        assertThat(c.wrote).containsExactly("SUBSCRIBE 7 a/# qos=1 id=1");
        assertThat(flow.waitingForIds()).isFalse();
        assertThat(flow.onSubAck(c, 7, List.of(1), after)).isTrue();
        runAfter();
        assertThat(c.notices).last().asString().isEqualTo("subscribed: subscribed [a/# -> granted QoS 1]");
        assertThat(probe.error).isNull();
    }

    @Test
    void aWaitingSubscribeWhoseSubscriberLeftIsForgotten() {
        Writer c = new Writer();
        connect(c, false);
        for (int i = 0; i < PacketIds.MAX; i++) {
            ids.allocate();
        }
        Probe probe = new Probe();
        InboundSubscriber s = subscribe("a/#", probe, c);
        registry.remove(s);
        ids.release(3);
        flow.retryWaiting(c, after);
        assertThat(c.wrote).isEmpty();
        assertThat(flow.waitingForIds()).isFalse();
    }

    @Test
    void anUnsubscribeThatFindsNoPacketIdGoesOutWhenAnIdFreesUp() {
        Writer c = new Writer();
        connect(c, false);
        for (int i = 0; i < PacketIds.MAX; i++) {
            ids.allocate();
        }
        flow.unsubscribe("a", c);
        assertThat(c.wrote).isEmpty();
        assertThat(flow.waitingForIds()).isTrue();
        ids.release(9);
        flow.retryWaiting(c, after);
        assertThat(c.wrote).containsExactly("UNSUBSCRIBE 9 [a]");
    }

    @Test
    void anUnsubscribeGoesOutAtOnceOrOnTheNextConnectionThatKeptTheSession() {
        Writer c = new Writer();
        connect(c, false);
        flow.unsubscribe("a", c);
        assertThat(c.wrote).containsExactly("UNSUBSCRIBE 1 [a]");
        assertThat(flow.onUnsubAck(c, 1, after)).isTrue();
        assertThat(flow.onUnsubAck(c, 1, after)).isFalse();

        flow.unsubscribe("b", null);
        flow.unsubscribe("c", null);
        Writer next = new Writer();
        connect(next, true);
        assertThat(next.wrote).containsExactly("UNSUBSCRIBE 2 [b, c]");
    }

    @Test
    void unsubscribesWaitingAreForgottenWhenTheBrokerKeptNoSession() {
        flow.unsubscribe("b", null);
        Writer next = new Writer();
        connect(next, false);

        assertThat(next.wrote).isEmpty();
    }

    @Test
    void whatWasInFlightOnALostConnectionGoesAgain() {
        Writer first = new Writer();
        connect(first, false);
        subscribe("a", new Probe(), first);
        flow.unsubscribe("b", first);
        assertThat(first.wrote).containsExactly("SUBSCRIBE 1 a qos=1 id=1", "UNSUBSCRIBE 2 [b]");

        Writer second = new Writer();
        connect(second, true);

        assertThat(second.wrote).containsExactly("SUBSCRIBE 3 a qos=1 id=1", "UNSUBSCRIBE 4 [b]");
        assertThat(flow.onSubAck(second, 1, List.of(1), after)).as("lost with the first connection").isFalse();
        assertThat(ids.isInUse(1)).isFalse();
        assertThat(ids.isInUse(2)).isFalse();
    }

    @Test
    void aNewSubscriberOfAFilterLeftMeanwhileCancelsItsUnsubscribe() {
        flow.unsubscribe("a", null);
        Writer c = new Writer();
        subscribe("a", new Probe(), c);
        c.wrote.clear();

        Writer next = new Writer();
        connect(next, true);
        assertThat(next.wrote).containsExactly("SUBSCRIBE 2 a qos=1 id=1");
    }
}
