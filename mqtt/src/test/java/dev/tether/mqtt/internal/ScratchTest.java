package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lists a thread reuses for the completions of the client's calls, and calls made from those completions. */
class ScratchTest {

    @Test
    void aThreadGetsItsListBackEmptyOnceReleased() {
        Scratch<Runnable> first = Scratch.COMPLETIONS.take();
        first.add(() -> { });
        first.release();
        Scratch<Runnable> again = Scratch.COMPLETIONS.take();
        try {
            assertThat(again).isSameAs(first).isEmpty();
        } finally {
            again.release();
        }
    }

    @Test
    void aCompletionThatCallsAgainGetsAListOfItsOwnAndTheOuterListRunsToItsEnd() {
        List<String> ran = new ArrayList<>();
        Scratch<Runnable> outer = Scratch.COMPLETIONS.take();
        outer.add(() -> {
            ran.add("outer 1");
            // What a publish made from a completion does: take a list, add, run it.
            Scratch<Runnable> inner = Scratch.COMPLETIONS.take();
            assertThat(inner).isNotSameAs(outer).isEmpty();
            inner.add(() -> ran.add("inner"));
            Scratch.runAll(inner);
        });
        outer.add(() -> ran.add("outer 2"));
        Scratch.runAll(outer);

        assertThat(ran).containsExactly("outer 1", "inner", "outer 2");
        // The thread's own list is free again and empty; the inner one was not kept.
        Scratch<Runnable> next = Scratch.COMPLETIONS.take();
        try {
            assertThat(next).isSameAs(outer).isEmpty();
        } finally {
            next.release();
        }
    }

    @Test
    void aCompletionThatThrowsStillFreesTheList() {
        Scratch<Runnable> list = Scratch.COMPLETIONS.take();
        list.add(() -> {
            throw new IllegalStateException("boom");
        });
        try {
            Scratch.runAll(list);
        } catch (IllegalStateException expected) {
            assertThat(expected).hasMessage("boom");
        }
        Scratch<Runnable> next = Scratch.COMPLETIONS.take();
        try {
            assertThat(next).isSameAs(list).isEmpty();
        } finally {
            next.release();
        }
    }

    @Test
    void anotherThreadHasItsOwnList() throws Exception {
        Scratch<Runnable> mine = Scratch.COMPLETIONS.take();
        try {
            List<Object> theirs = new ArrayList<>();
            Thread t = new Thread(() -> {
                Scratch<Runnable> s = Scratch.COMPLETIONS.take();
                theirs.add(s);
                s.release();
            });
            t.start();
            t.join(10_000);
            assertThat(theirs).hasSize(1);
            assertThat(theirs.get(0)).isNotSameAs(mine);
        } finally {
            mine.release();
        }
    }
}
