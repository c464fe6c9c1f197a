//! Accepting: the listener in and out of epoll, accept4 in batches under --max-connections and the
//! accept-rate gate, and the once-a-second sweep (retry after a failed accept, silent and ended connections).

use super::*;

impl Server {
    pub(super) fn start_accepting(&mut self) {
        if self.accepting || self.listen_fd < 0 {
            return;
        }
        if epoll_op(self.epfd, EPOLL_CTL_ADD, self.listen_fd, EPOLLIN, LISTEN_TOKEN) == 0 {
            self.accepting = true;
        }
    }

    pub(super) fn stop_accepting(&mut self) {
        if self.accepting {
            epoll_op(self.epfd, EPOLL_CTL_DEL, self.listen_fd, 0, 0);
            self.accepting = false;
        }
    }

    pub(super) fn accept_some(&mut self) {
        let now = self.now_ms32();
        for _ in 0..ACCEPT_BATCH {
            let mut sa = sockaddr_storage { bytes: [0; 128] };
            let mut len: socklen_t = 128;
            // SAFETY: accept4 writes at most `len` bytes into `sa`.
            let fd = unsafe { accept4(self.listen_fd, &mut sa, &mut len, SOCK_NONBLOCK | SOCK_CLOEXEC) };
            if fd < 0 {
                match errno() {
                    EAGAIN => break,
                    EINTR | ECONNABORTED => continue,
                    e => {
                        // Out of descriptors (EMFILE, ENFILE) or memory, or worse: stop, say so,
                        // retry at the next second's sweep (the backlog keeps the newcomers).
                        self.stop_accepting();
                        self.retry_accept = true;
                        self.push(EV_LISTEN_ERROR, -1, e);
                        break;
                    }
                }
            }
            if self.conns.total.get() >= self.max_connections {
                // SAFETY: closes the descriptor just accepted, owned here.
                unsafe { close(fd) };
                self.push(EV_REFUSED, -1, 0);
                continue;
            }
            let id = self.conns.insert(fd, Peer::from_sockaddr(&sa), now);
            if epoll_op(self.epfd, EPOLL_CTL_ADD, fd, EPOLLIN, id as u64) != 0 {
                // SAFETY: as above.
                unsafe { close(fd) };
                self.conns.closed(id, false);
                continue;
            }
            if let Some(c) = self.conns.get(id) {
                c.armed = EPOLLIN;
            }
            let now_ms = self.now_ms();
            if let Some(wait) = self.gate.as_mut().and_then(|g| g.take(now_ms)) {
                self.stop_accepting();
                arm_timer(self.gate_fd, wait, 0.0);
                self.push(EV_GATE_PAUSED, -1, wait.ceil() as i32);
                break;
            }
        }
    }

    /// Once a second: retry accepting after a failure, hand JavaScript connections silent since
    /// accept, close ended ones whose peer did not close.
    pub(super) fn sweep(&mut self) {
        if self.retry_accept {
            self.retry_accept = false;
            self.start_accepting();
        }
        let now = self.now_ms32();
        let silent = self.announce_after_ms;
        let late = self.conns.ids_where(|c| {
            let age = now.wrapping_sub(c.since);
            (c.state == State::Fresh && age >= silent) || (c.state == State::Ending && age >= END_GRACE_MS)
        });
        for id in late.into_iter().take(SWEEP_BATCH) {
            let Some(c) = self.conns.get(id) else { continue };
            if c.state == State::Fresh {
                c.state = State::Open;
                let age = now.wrapping_sub(c.since).min(i32::MAX as u32) as i32;
                self.push(EV_OPEN_SILENT, id, age);
            } else {
                self.kernel_closed(id, 0);
            }
        }
    }
}
