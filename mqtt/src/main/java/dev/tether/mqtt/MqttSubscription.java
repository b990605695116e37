package dev.tether.mqtt;

import java.util.Objects;
import java.util.OptionalInt;
import org.jspecify.annotations.Nullable;

/**
 * What one subscriber asks of the broker: a topic filter (or a shared subscription
 * {@code $share/{group}/{filter}}), the maximum QoS and the MQTT 5 subscription options. Immutable; build it
 * with {@link #builder(String)} and pass it to {@link MqttClient#subscribe(MqttSubscription)} or
 * {@link MqttClient#subscribeWithAcknowledgement(MqttSubscription)}.
 *
 * <pre>{@code
 * MqttSubscription spec = MqttSubscription.builder("$share/workers/jobs/#")
 *         .qos(MqttQos.AT_LEAST_ONCE)
 *         .build();
 * }</pre>
 *
 * <p>Subscribers of the same filter share one subscription at the broker: they must agree on
 * {@link Builder#noLocal(boolean)}, {@link Builder#retainAsPublished(boolean)} and the subscription identifier;
 * the QoS asked of the broker is the highest any of them asked. {@link RetainHandling} is applied per
 * subscriber. The options are sent to MQTT 5 brokers only; an MQTT 3.1.1 broker sees the filter and the QoS.
 */
public final class MqttSubscription {

    /** The largest Subscription Identifier MQTT 5 allows (a variable byte integer). */
    public static final int MAX_SUBSCRIPTION_IDENTIFIER = 268_435_455;

    private final String filter;
    private final MqttQos qos;
    private final boolean noLocal;
    private final boolean retainAsPublished;
    private final RetainHandling retainHandling;
    private final int subscriptionIdentifier;

    private MqttSubscription(Builder b) {
        this.filter = b.filter;
        this.qos = b.qos;
        this.noLocal = b.noLocal;
        this.retainAsPublished = b.retainAsPublished;
        this.retainHandling = b.retainHandling;
        this.subscriptionIdentifier = b.subscriptionIdentifier;
    }

    /**
     * @param topicFilter a topic filter, wildcards allowed, or a shared subscription
     *                    {@code $share/{group}/{filter}} (the group has no {@code /}, {@code +} or {@code #})
     * @return a builder with QoS 1 and the MQTT default options
     * @throws IllegalArgumentException if the filter is invalid, with what is wrong in it
     */
    public static Builder builder(String topicFilter) {
        return new Builder(topicFilter);
    }

    /**
     * @param topicFilter a topic filter
     * @param qos         the maximum QoS asked
     * @return a subscription with the MQTT default options
     * @throws IllegalArgumentException if the filter is invalid
     */
    public static MqttSubscription of(String topicFilter, MqttQos qos) {
        return builder(topicFilter).qos(qos).build();
    }

    /** @return the topic filter as sent to the broker (with {@code $share/{group}/} for a shared subscription) */
    public String topicFilter() {
        return filter;
    }

    /** @return the maximum QoS asked */
    public MqttQos qos() {
        return qos;
    }

    /** @return whether this is a shared subscription ({@code $share/{group}/{filter}}) */
    public boolean isShared() {
        return filter.startsWith(SHARE_PREFIX);
    }

    /** @return the group of a shared subscription, or empty */
    public java.util.Optional<String> shareGroup() {
        if (!isShared()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(filter.substring(SHARE_PREFIX.length(), filter.indexOf('/', SHARE_PREFIX.length())));
    }

    /** @return the filter that topics are matched against (without {@code $share/{group}/}) */
    public String matchingFilter() {
        return isShared() ? filter.substring(filter.indexOf('/', SHARE_PREFIX.length()) + 1) : filter;
    }

    /** @return MQTT 5 No Local: the broker does not send this client's own publishes back */
    public boolean noLocal() {
        return noLocal;
    }

    /** @return MQTT 5 Retain As Published: forwarded messages keep the RETAIN flag they were published with */
    public boolean retainAsPublished() {
        return retainAsPublished;
    }

    /** @return when this subscriber gets the retained messages */
    public RetainHandling retainHandling() {
        return retainHandling;
    }

    /** @return the Subscription Identifier asked for, or empty to let the client choose one (MQTT 5 brokers that offer them) */
    public OptionalInt subscriptionIdentifier() {
        return subscriptionIdentifier == 0 ? OptionalInt.empty() : OptionalInt.of(subscriptionIdentifier);
    }

    /** @return a builder holding these settings */
    public Builder toBuilder() {
        Builder b = new Builder(filter);
        b.qos = qos;
        b.noLocal = noLocal;
        b.retainAsPublished = retainAsPublished;
        b.retainHandling = retainHandling;
        b.subscriptionIdentifier = subscriptionIdentifier;
        return b;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof MqttSubscription s && s.filter.equals(filter) && s.qos == qos && s.noLocal == noLocal
                && s.retainAsPublished == retainAsPublished && s.retainHandling == retainHandling
                && s.subscriptionIdentifier == subscriptionIdentifier;
    }

    @Override
    public int hashCode() {
        return Objects.hash(filter, qos, noLocal, retainAsPublished, retainHandling, subscriptionIdentifier);
    }

    @Override
    public String toString() {
        return "MqttSubscription{" + filter + ", qos=" + qos.value() + (noLocal ? ", noLocal" : "")
                + (retainAsPublished ? ", retainAsPublished" : "") + ", retainHandling=" + retainHandling
                + (subscriptionIdentifier == 0 ? "" : ", subscriptionIdentifier=" + subscriptionIdentifier) + "}";
    }

    static final String SHARE_PREFIX = "$share/";

    /** Builds an {@link MqttSubscription}; every setter validates at once. */
    public static final class Builder {
        private final String filter;
        private MqttQos qos = MqttQos.AT_LEAST_ONCE;
        private boolean noLocal;
        private boolean retainAsPublished;
        private RetainHandling retainHandling = RetainHandling.SEND;
        private int subscriptionIdentifier;

        private Builder(String filter) {
            Objects.requireNonNull(filter, "topicFilter");
            validate(filter);
            this.filter = filter;
        }

        /**
         * @param qos the maximum QoS asked; default QoS 1
         * @return this builder
         */
        public Builder qos(MqttQos qos) {
            this.qos = Objects.requireNonNull(qos, "qos");
            return this;
        }

        /**
         * @param noLocal MQTT 5 No Local; default false. Not allowed on a shared subscription (MQTT 5 §3.8.3.1)
         * @return this builder
         */
        public Builder noLocal(boolean noLocal) {
            if (noLocal && filter.startsWith(SHARE_PREFIX)) {
                throw new IllegalArgumentException("noLocal is not allowed on the shared subscription '" + filter
                        + "' (MQTT 5 3.8.3.1): drop noLocal or subscribe without $share");
            }
            this.noLocal = noLocal;
            return this;
        }

        /**
         * @param retainAsPublished MQTT 5 Retain As Published; default false. With it, a forwarded message
         *                          keeps its RETAIN flag, so a subscriber joining a filter that others already
         *                          subscribed cannot be sent the retained messages alone: it gets none
         * @return this builder
         */
        public Builder retainAsPublished(boolean retainAsPublished) {
            this.retainAsPublished = retainAsPublished;
            return this;
        }

        /**
         * @param handling when this subscriber gets the retained messages; default {@link RetainHandling#SEND}
         * @return this builder
         */
        public Builder retainHandling(RetainHandling handling) {
            this.retainHandling = Objects.requireNonNull(handling, "retainHandling");
            return this;
        }

        /**
         * @param identifier the MQTT 5 Subscription Identifier to use for this filter (1..268435455); by default
         *                   the client assigns one to every filter when the broker offers them, and routes each
         *                   PUBLISH by it, so overlapping filters never deliver one message twice
         * @return this builder
         */
        public Builder subscriptionIdentifier(int identifier) {
            if (identifier < 1 || identifier > MAX_SUBSCRIPTION_IDENTIFIER) {
                throw new IllegalArgumentException("subscriptionIdentifier must be between 1 and "
                        + MAX_SUBSCRIPTION_IDENTIFIER + ", but was " + identifier);
            }
            this.subscriptionIdentifier = identifier;
            return this;
        }

        /** @return the subscription */
        public MqttSubscription build() {
            return new MqttSubscription(this);
        }
    }

    /**
     * @param filter a topic filter or shared subscription
     * @throws IllegalArgumentException with what is wrong
     */
    static void validate(String filter) {
        if (filter.startsWith(SHARE_PREFIX)) {
            int slash = filter.indexOf('/', SHARE_PREFIX.length());
            if (slash < 0) {
                throw new IllegalArgumentException("shared subscription '" + filter
                        + "' needs a group and a filter: $share/{group}/{filter}");
            }
            String group = filter.substring(SHARE_PREFIX.length(), slash);
            if (group.isEmpty() || group.contains("+") || group.contains("#")) {
                throw new IllegalArgumentException("shared subscription '" + filter + "' has the group '" + group
                        + "'; a group is not empty and has no '/', '+' or '#'");
            }
            String rest = filter.substring(slash + 1);
            if (rest.isEmpty()) {
                throw new IllegalArgumentException("shared subscription '" + filter + "' has no filter after its group");
            }
            validatePlain(rest, filter);
        } else {
            validatePlain(filter, filter);
        }
    }

    private static void validatePlain(String filter, String whole) {
        if (filter.isEmpty()) {
            throw new IllegalArgumentException("topicFilter must not be empty");
        }
        if (filter.indexOf('\u0000') >= 0) {
            throw new IllegalArgumentException("topicFilter '" + whole + "' contains the null character U+0000");
        }
        String[] levels = filter.split("/", -1);
        for (int i = 0; i < levels.length; i++) {
            String level = levels[i];
            if (level.contains("#") && (!level.equals("#") || i != levels.length - 1)) {
                throw new IllegalArgumentException("topicFilter '" + whole + "' may use '#' only as the whole last level");
            }
            if (level.contains("+") && !level.equals("+")) {
                throw new IllegalArgumentException("topicFilter '" + whole + "' may use '+' only as a whole level");
            }
        }
    }
}
