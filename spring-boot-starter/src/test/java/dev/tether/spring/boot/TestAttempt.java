package dev.tether.spring.boot;

import dev.tether.core.spi.Attempt;
import dev.tether.core.Credentials;
import dev.tether.core.Endpoint;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** An attempt for using the client's connector directly, without the engine (many plain clients in one test). */
record TestAttempt(Endpoint endpoint, Credentials credentials) implements Attempt {

    /** An attempt without credentials. */
    TestAttempt(Endpoint endpoint) {
        this(endpoint, Credentials.none());
    }

    @Override
    public long generation() {
        return 1;
    }

    @Override
    public int number() {
        return 1;
    }

    @Override
    public boolean credentialsRefreshed() {
        return false;
    }

    @Override
    public Scheduler scheduler() {
        return Schedulers.parallel();
    }

    @Override
    public void reportCloseSent(int code, String reason) {
    }

    @Override
    public void reportCloseReceived(int code, String reason) {
    }

    @Override
    public void reportNotice(String kind, Object details) {
    }
}
