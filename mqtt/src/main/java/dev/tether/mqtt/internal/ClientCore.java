package dev.tether.mqtt.internal;

import dev.tether.core.BufferOverflowException;
import dev.tether.core.ConnectionClosedException;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.CredentialsRequest;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttPacketTooLargeException;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttRefusedException;
import dev.tether.mqtt.MqttSession;
import dev.tether.mqtt.PublishResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The client state that outlives a single connection: publishes waiting to be sent, publishes in
 * flight with their packet ids, the subscription registry, and QoS 2 packet ids received.
 *
 * <p>Guarded by its own monitor. Completions of user-facing signals run after the monitor is released.
 */
public final class ClientCore {

    private static final int MAX_PACKET_ID = 0xFFFF;

    private final MqttClientConfig config;
    private @Nullable MqttConnection connection;
    private int serverReceiveMaximum = MAX_PACKET_ID;
    private MqttQos serverMaximumQos = MqttQos.EXACTLY_ONCE;
    private boolean serverRetainAvailable = true;
    private long serverMaximumPacketSize = Long.MAX_VALUE;
    private final ArrayDeque<OutboundPublish> pending = new ArrayDeque<>();
    private final LinkedHashMap<Integer, OutboundPublish> inFlight = new LinkedHashMap<>();
    private final Set<Integer> idsInUse = new HashSet<>();
    private int nextId = 1;
    private final Set<Integer> inboundQos2 = new HashSet<>();
    private final Map<String, Subscription> subscriptions = new LinkedHashMap<>();
    private final Map<Integer, SubscribeRequest> subAcks = new HashMap<>();
    private final Map<Integer, List<String>> unsubAcks = new HashMap<>();
    private final Set<String> unsubscribeLater = new LinkedHashSet<>();
    private final List<MonoSink<Void>> drainWaiters = new ArrayList<>();
    private boolean shutdown;

    /** @param config the client settings */
    public ClientCore(MqttClientConfig config) {
        this.config = config;
    }

    // ------------------------------------------------------------------ user side

    /**
     * @param message the message to publish
     * @return completes on the acknowledgement the QoS asks for
     */
    public Mono<PublishResult> publish(MqttMessage message) {
        return Mono.create(sink -> {
            OutboundPublish op = new OutboundPublish(message, sink);
            sink.onCancel(() -> cancelPending(op));
            List<Runnable> after = new ArrayList<>();
            synchronized (this) {
                MqttPacketTooLargeException tooLarge = tooLarge(message, config.maxPacketSize(), false);
                if (shutdown) {
                    after.add(() -> sink.error(new ConnectionClosedException("the MQTT client is closed; publish to '"
                            + message.topic() + "' refused", null)));
                } else if (tooLarge != null) {
                    after.add(() -> sink.error(tooLarge));
                } else if (usable(connection)) {
                    pending.add(op);
                    drain(after);
                } else if (pending.size() >= config.offlineCapacity()) {
                    switch (config.overflowPolicy()) {
                        case FAIL_NEWEST -> after.add(() -> sink.error(new BufferOverflowException(config.offlineCapacity(),
                                "MQTT publishes")));
                        case DROP_NEWEST -> after.add(sink::success);
                        case DROP_OLDEST -> {
                            OutboundPublish oldest = pending.pollFirst();
                            pending.add(op);
                            if (oldest != null) {
                                after.add(oldest.sink::success);
                            }
                        }
                    }
                } else {
                    pending.add(op);
                }
            }
            after.forEach(Runnable::run);
        });
    }

    private void cancelPending(OutboundPublish op) {
        synchronized (this) {
            pending.remove(op);
        }
    }

    /**
     * @param filter a topic filter
     * @throws IllegalArgumentException if it is empty or uses wildcards wrongly
     */
    public static void validateFilter(String filter) {
        TopicFilters.validate(filter);
    }

    /**
     * Registers a subscriber; sends SUBSCRIBE now if connected, else at the next connect.
     *
     * @param filter the topic filter
     * @param qos    the maximum QoS asked
     * @param sink   where matching messages go
     */
    public void addSubscriber(String filter, MqttQos qos, FluxSink<MqttMessage> sink) {
        TopicFilters.validate(filter);
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (shutdown) {
                after.add(sink::complete);
            } else {
                Subscription s = subscriptions.computeIfAbsent(filter, f -> new Subscription(f, qos));
                s.sinks.add(sink);
                unsubscribeLater.remove(filter);
                if (qos.value() > s.qos.value()) {
                    // A higher QoS for a filter already subscribed: subscribe again with it.
                    s.qos = qos;
                    s.confirmed = false;
                }
                MqttConnection c = connection;
                if (!s.confirmed && s.pendingId == 0 && usable(c)) {
                    sendSubscribe(c, List.of(s), false);
                }
            }
        }
        after.forEach(Runnable::run);
    }

    /**
     * Removes a subscriber; the last one of a filter unsubscribes it at the broker.
     *
     * @param filter the topic filter
     * @param sink   the subscriber
     */
    public void removeSubscriber(String filter, FluxSink<MqttMessage> sink) {
        synchronized (this) {
            Subscription s = subscriptions.get(filter);
            if (s == null || !s.sinks.remove(sink) || !s.sinks.isEmpty()) {
                return;
            }
            subscriptions.remove(filter);
            if (shutdown) {
                return;
            }
            MqttConnection c = connection;
            if (usable(c)) {
                int id = allocateId();
                if (id != 0) {
                    unsubAcks.put(id, List.of(filter));
                    c.writeUnsubscribe(id, List.of(filter));
                    return;
                }
            }
            unsubscribeLater.add(filter);
        }
    }

    /** @return completes when no publish is in flight or waiting to be sent */
    Mono<Void> drained() {
        return Mono.create(sink -> {
            boolean now;
            synchronized (this) {
                now = inFlight.isEmpty() && pending.isEmpty();
                if (!now) {
                    drainWaiters.add(sink);
                }
            }
            if (now) {
                sink.success();
            }
        });
    }

    /**
     * MQTT 5 re-authentication on the connection in use: asks the provider to refresh, then sends AUTH.
     *
     * @param credentials the provider
     * @return completes when the broker accepted the new credentials
     */
    public Mono<Void> reauthenticate(CredentialsProvider credentials) {
        return Mono.defer(() -> {
            MqttConnection c;
            synchronized (this) {
                c = usable(connection) ? connection : null;
            }
            if (c == null) {
                return Mono.error(new IllegalStateException("not connected; re-authentication needs an established connection"));
            }
            MqttConnection live = c;
            return Mono.defer(() -> credentials.credentials(new CredentialsRequest(1, live.attempt().endpoint(), true)))
                    .switchIfEmpty(Mono.error(() -> new IllegalStateException("the credentials provider completed without credentials")))
                    .flatMap(live::reauthenticate);
        });
    }

    /**
     * The client is closed for good: waiting publishes fail, subscriber fluxes end.
     *
     * @param cause the terminal cause, or null after a user close
     */
    public void shutdown(@Nullable Throwable cause) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (shutdown) {
                return;
            }
            shutdown = true;
            ConnectionClosedException closed = new ConnectionClosedException(cause == null ? "the MQTT client was closed"
                    : "the MQTT client closed for good: " + cause.getMessage(), cause);
            for (OutboundPublish op : pending) {
                after.add(() -> op.sink.error(closed));
            }
            for (OutboundPublish op : inFlight.values()) {
                after.add(() -> op.sink.error(closed));
            }
            pending.clear();
            inFlight.clear();
            for (Subscription s : subscriptions.values()) {
                for (FluxSink<MqttMessage> sink : s.sinks) {
                    after.add(cause == null ? sink::complete : () -> sink.error(closed));
                }
            }
            subscriptions.clear();
            drainWaiters.forEach(w -> after.add(w::success));
            drainWaiters.clear();
        }
        after.forEach(Runnable::run);
    }

    // ------------------------------------------------------------------ connection side

    /**
     * A connection was accepted: resend what is in flight (session present) or start over, resubscribe,
     * then send what waited.
     */
    void connected(MqttConnection c, MqttSession session) {
        boolean sessionPresent = session.sessionPresent();
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            connection = c;
            serverReceiveMaximum = session.receiveMaximum();
            serverMaximumQos = session.maximumQos();
            serverRetainAvailable = session.retainAvailable();
            serverMaximumPacketSize = session.maximumPacketSize().orElse(Long.MAX_VALUE);
            for (Integer id : subAcks.keySet()) {
                idsInUse.remove(id);
            }
            subAcks.clear();
            for (Map.Entry<Integer, List<String>> e : unsubAcks.entrySet()) {
                idsInUse.remove(e.getKey());
                unsubscribeLater.addAll(e.getValue());
            }
            unsubAcks.clear();
            subscriptions.values().forEach(s -> s.pendingId = 0);
            if (sessionPresent) {
                if (!inFlight.isEmpty()) {
                    String details = inFlight.size() + " publishes in flight resent with their original packet ids "
                            + inFlight.keySet();
                    after.add(() -> c.attempt().reportNotice("resent", details));
                }
                for (java.util.Iterator<OutboundPublish> it = inFlight.values().iterator(); it.hasNext(); ) {
                    OutboundPublish op = it.next();
                    MqttPacketTooLargeException tooLarge = op.released ? null
                            : tooLarge(op.message, serverMaximumPacketSize, true);
                    if (op.released) {
                        c.writePubRel(op.packetId);
                    } else if (tooLarge != null) {
                        // This broker takes smaller packets than the one that accepted the session.
                        it.remove();
                        idsInUse.remove(op.packetId);
                        after.add(() -> op.sink.error(tooLarge));
                    } else {
                        c.writePublish(op.message, op.packetId, true);
                    }
                }
            } else {
                inboundQos2.clear();
                List<OutboundPublish> again = new ArrayList<>();
                for (OutboundPublish op : inFlight.values()) {
                    idsInUse.remove(op.packetId);
                    if (op.released) {
                        // PUBREC said the broker owns the message: it is delivered.
                        PublishResult r = new PublishResult(op.message.topic(), op.message.qos(), op.packetId, 0);
                        after.add(() -> op.sink.success(r));
                    } else {
                        op.packetId = 0;
                        again.add(op);
                    }
                }
                inFlight.clear();
                if (!again.isEmpty()) {
                    String details = again.size() + " publishes in flight sent again as new publishes (the broker kept no session)";
                    after.add(() -> c.attempt().reportNotice("republished", details));
                }
                for (int i = again.size() - 1; i >= 0; i--) {
                    pending.addFirst(again.get(i));
                }
                subscriptions.values().forEach(s -> s.confirmed = false);
                unsubscribeLater.clear();
            }
            List<Subscription> resubscribe = subscriptions.values().stream().filter(s -> !s.confirmed && s.granted).toList();
            if (!resubscribe.isEmpty()) {
                sendSubscribe(c, resubscribe, true);
            }
            List<Subscription> first = subscriptions.values().stream().filter(s -> !s.confirmed && !s.granted).toList();
            if (!first.isEmpty()) {
                sendSubscribe(c, first, false);
            }
            if (!unsubscribeLater.isEmpty()) {
                int id = allocateId();
                if (id != 0) {
                    List<String> filters = List.copyOf(unsubscribeLater);
                    unsubscribeLater.clear();
                    unsubAcks.put(id, filters);
                    c.writeUnsubscribe(id, filters);
                }
            }
            drain(after);
        }
        after.forEach(Runnable::run);
    }

    /** The connection ended; what is in flight waits for the next one. */
    synchronized void disconnected(MqttConnection c) {
        if (connection == c) {
            connection = null;
        }
    }

    /** The connection stopped taking new publishes (graceful close). */
    synchronized void stopSending(MqttConnection c) {
        if (connection == c) {
            connection = null;
        }
    }

    /** @return false if the id is not a QoS 1 publish in flight (a protocol violation) */
    boolean onPubAck(int id, int reasonCode) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            OutboundPublish op = inFlight.get(id);
            if (op == null || op.message.qos() != MqttQos.AT_LEAST_ONCE) {
                return false;
            }
            inFlight.remove(id);
            idsInUse.remove(id);
            complete(op, "PUBACK", reasonCode, after);
            drainAndNotify(after);
        }
        after.forEach(Runnable::run);
        return true;
    }

    /** @return false if the id is not a QoS 2 publish in flight */
    boolean onPubRec(MqttConnection c, int id, int reasonCode) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            OutboundPublish op = inFlight.get(id);
            if (op == null || op.message.qos() != MqttQos.EXACTLY_ONCE) {
                return false;
            }
            if (reasonCode >= 0x80) {
                inFlight.remove(id);
                idsInUse.remove(id);
                complete(op, "PUBREC", reasonCode, after);
                drainAndNotify(after);
            } else {
                op.released = true;
                c.writePubRel(id);
            }
        }
        after.forEach(Runnable::run);
        return true;
    }

    /** @return false if the id is not a released QoS 2 publish */
    boolean onPubComp(int id, int reasonCode) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            OutboundPublish op = inFlight.get(id);
            if (op == null || !op.released) {
                return false;
            }
            inFlight.remove(id);
            idsInUse.remove(id);
            PublishResult r = new PublishResult(op.message.topic(), op.message.qos(), id, reasonCode);
            after.add(() -> op.sink.success(r));
            drainAndNotify(after);
        }
        after.forEach(Runnable::run);
        return true;
    }

    /** @return false if no SUBSCRIBE waits for this id or the codes do not fit */
    boolean onSubAck(MqttConnection c, int id, List<Integer> codes) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            SubscribeRequest req = subAcks.get(id);
            if (req == null || codes.size() != req.subscriptions.size()) {
                return false;
            }
            subAcks.remove(id);
            idsInUse.remove(id);
            List<String> results = new ArrayList<>();
            for (int i = 0; i < codes.size(); i++) {
                Subscription s = req.subscriptions.get(i);
                int code = codes.get(i);
                s.pendingId = 0;
                if (code < 0x80) {
                    // A subscriber that asked for a higher QoS meanwhile gets another SUBSCRIBE below.
                    s.confirmed = subscriptions.get(s.filter) == s && s.qos == req.requested.get(i);
                    s.granted = true;
                    results.add(s.filter + " -> granted QoS " + code);
                } else {
                    results.add(s.filter + " -> refused " + String.format("0x%02X", code));
                    if (subscriptions.get(s.filter) == s) {
                        subscriptions.remove(s.filter);
                        MqttRefusedException refused = new MqttRefusedException("SUBACK", code, "the broker refused the "
                                + "subscription to '" + s.filter + "' with code " + String.format("0x%02X", code)
                                + "; check the filter and the broker's authorization rules");
                        for (FluxSink<MqttMessage> sink : s.sinks) {
                            after.add(() -> sink.error(refused));
                        }
                    }
                }
            }
            List<Subscription> upgraded = req.subscriptions.stream()
                    .filter(s -> !s.confirmed && s.granted && s.pendingId == 0 && subscriptions.get(s.filter) == s).toList();
            if (!upgraded.isEmpty() && usable(c)) {
                sendSubscribe(c, upgraded, false);
            }
            String kind = req.resubscribe ? "resubscribed" : "subscribed";
            String details = kind + " " + results;
            after.add(() -> c.attempt().reportNotice(kind, details));
            drain(after);
        }
        after.forEach(Runnable::run);
        return true;
    }

    /** @return false if no UNSUBSCRIBE waits for this id */
    synchronized boolean onUnsubAck(int id) {
        if (unsubAcks.remove(id) == null) {
            return false;
        }
        idsInUse.remove(id);
        return true;
    }

    /**
     * An inbound QoS 2 PUBLISH: records its id.
     *
     * @return true if it is new and must be delivered, false if it is a redelivery of one already delivered
     */
    synchronized boolean firstQos2(int id) {
        return inboundQos2.add(id);
    }

    /**
     * PUBREL for an inbound QoS 2 message: forget its id.
     *
     * @return whether a QoS 2 message with that id had been received
     */
    synchronized boolean releaseQos2(int id) {
        return inboundQos2.remove(id);
    }

    /** Delivers an inbound message to every matching subscriber. */
    void deliver(MqttMessage message) {
        List<FluxSink<MqttMessage>> targets = new ArrayList<>();
        synchronized (this) {
            for (Subscription s : subscriptions.values()) {
                if (TopicFilters.matches(s.filter, message.topic())) {
                    targets.addAll(s.sinks);
                }
            }
        }
        targets.forEach(t -> t.next(message));
    }

    // ------------------------------------------------------------------ internals (hold the monitor)

    private boolean usable(@Nullable MqttConnection c) {
        return c != null && c.canSend();
    }

    private void complete(OutboundPublish op, String packet, int reasonCode, List<Runnable> after) {
        if (reasonCode >= 0x80) {
            MqttRefusedException refused = new MqttRefusedException(packet, reasonCode, "the broker refused the publish to '"
                    + op.message.topic() + "' with " + packet + " reason code " + String.format("0x%02X", reasonCode));
            after.add(() -> op.sink.error(refused));
        } else {
            PublishResult r = new PublishResult(op.message.topic(), op.message.qos(), op.packetId, reasonCode);
            after.add(() -> op.sink.success(r));
        }
    }

    private void drainAndNotify(List<Runnable> after) {
        drain(after);
        if (inFlight.isEmpty() && pending.isEmpty() && !drainWaiters.isEmpty()) {
            drainWaiters.forEach(w -> after.add(w::success));
            drainWaiters.clear();
        }
    }

    private void drain(List<Runnable> after) {
        MqttConnection c = connection;
        if (!usable(c)) {
            return;
        }
        boolean onLoop = c.inEventLoop();
        int limit = Math.min(serverReceiveMaximum, config.maxInFlight());
        while (!pending.isEmpty()) {
            OutboundPublish op = pending.peekFirst();
            if (op.message.retain() && !serverRetainAvailable) {
                pending.pollFirst();
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
                pending.pollFirst();
                after.add(() -> op.sink.error(tooLarge));
                continue;
            }
            if (op.message.qos() == MqttQos.AT_MOST_ONCE) {
                pending.pollFirst();
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
                c.scheduleDrain(this::drainOnLoop);
                return;
            }
            if (inFlight.size() >= limit) {
                return;
            }
            int id = allocateId();
            if (id == 0) {
                return;
            }
            pending.pollFirst();
            op.packetId = id;
            inFlight.put(id, op);
            c.writePublishSoon(op.message, id);
        }
    }

    /** Runs on the connection's event loop: writes what waits, as far as the in-flight window allows. */
    private void drainOnLoop() {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            drainAndNotify(after);
        }
        after.forEach(Runnable::run);
    }

    private @Nullable MqttPacketTooLargeException tooLarge(MqttMessage message, long limit, boolean broker) {
        long size = PacketSizes.publish(message, config.isV5());
        if (size <= limit) {
            return null;
        }
        String serverLimit = serverMaximumPacketSize == Long.MAX_VALUE ? "not announced"
                : serverMaximumPacketSize + " bytes";
        return new MqttPacketTooLargeException("publish to '" + message.topic() + "' refused: its PUBLISH packet would be "
                + size + " bytes, larger than the " + (broker ? "broker's Maximum Packet Size of " + limit
                + " bytes (CONNACK)" : "client's maxPacketSize of " + limit + " bytes")
                + "; client maxPacketSize " + config.maxPacketSize() + " bytes, broker Maximum Packet Size " + serverLimit
                + "; the connection stays up", size, limit, broker);
    }

    private void sendSubscribe(MqttConnection c, List<Subscription> subs, boolean resubscribe) {
        int id = allocateId();
        if (id == 0) {
            return;
        }
        subs.forEach(s -> s.pendingId = id);
        subAcks.put(id, new SubscribeRequest(List.copyOf(subs), subs.stream().map(s -> s.qos).toList(), resubscribe));
        c.writeSubscribe(id, subs.stream().map(s -> Map.entry(s.filter, s.qos)).toList());
    }

    private int allocateId() {
        if (idsInUse.size() >= MAX_PACKET_ID) {
            return 0;
        }
        while (idsInUse.contains(nextId)) {
            nextId = nextId == MAX_PACKET_ID ? 1 : nextId + 1;
        }
        int id = nextId;
        idsInUse.add(id);
        nextId = nextId == MAX_PACKET_ID ? 1 : nextId + 1;
        return id;
    }

    /** A publish waiting to be sent or in flight. */
    private static final class OutboundPublish {
        MqttMessage message;
        final MonoSink<PublishResult> sink;
        int packetId;
        boolean released;

        OutboundPublish(MqttMessage message, MonoSink<PublishResult> sink) {
            this.message = message;
            this.sink = sink;
        }
    }

    /** One topic filter of the registry and its subscribers. */
    private static final class Subscription {
        final String filter;
        MqttQos qos;
        final List<FluxSink<MqttMessage>> sinks = new ArrayList<>();
        boolean confirmed;
        boolean granted;
        int pendingId;

        Subscription(String filter, MqttQos qos) {
            this.filter = filter;
            this.qos = qos;
        }
    }

    /** A SUBSCRIBE waiting for its SUBACK. */
    private record SubscribeRequest(List<Subscription> subscriptions, List<MqttQos> requested, boolean resubscribe) {
    }
}
