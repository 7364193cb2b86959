/* 视频调解: WebRTC mesh (2–6 people) over the room's /room Socket.IO namespace, and recording with
 * consent through the site's media worker. No inline script (CSP); names are inserted as text.
 *
 * This page opens its own /room socket (the chat keeps its own). "rtc_hello" joins the video and
 * returns the peers this member may see now; of each pair the peer with the smaller id offers.
 * The server tells us when a peer appears or must be hung up (joins, leaves, caucus), relays
 * offers, answers and ICE candidates, and says when recording runs: then each page that sends
 * media offers its tracks to the media worker as well. */
(function () {
  "use strict";

  var root = document.getElementById("room-video");
  if (!root || typeof io !== "function") return;

  var roomId = parseInt(root.getAttribute("data-room-id"), 10);
  var isMediator = root.getAttribute("data-mediator") === "1";
  var $ = function (id) { return document.getElementById(id); };
  var tiles = $("rv-tiles"), status = $("rv-status"), fallback = $("rv-fallback");
  var recIndicator = $("rv-rec-indicator"), recStatus = $("rv-rec-status"), recError = $("rv-rec-error");
  var joinBtn = $("rv-join"), micBtn = $("rv-mic"), camBtn = $("rv-cam"), screenBtn = $("rv-screen");
  var leaveBtn = $("rv-leave"), consentBtn = $("rv-consent"), recStartBtn = $("rv-rec-start");
  var recStopBtn = $("rv-rec-stop"), localVideo = $("rv-local-video"), localTile = $("rv-local");
  var soundBox = $("rv-sound"), soundBtn = $("rv-sound-btn");

  var me = null;              // my peer id (socket id) once joined
  var joined = false;
  var wantMedia = false;      // the user asked for camera / microphone
  var localStream = null;     // camera + microphone (or microphone only)
  var screenTrack = null;
  var iceServers = [];
  var peers = {};             // peer id → {pc, info, tile, video, audio, offerer, queue, net, timer}
  var workerPc = null;
  var recording = { state: "idle" };
  var consented = false;

  // query.room lets a proxy send every member of a room to the same server process (README: room affinity)
  var socket = io("/room", { auth: { room_id: roomId }, query: { room: String(roomId) }, transports: ["websocket", "polling"] });

  function setStatus(text) { status.textContent = text; }
  function showFallback(text) { fallback.textContent = text || ""; fallback.hidden = !text; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function call(event, data) {
    return new Promise(function (resolve) {
      socket.timeout(20000).emit(event, data || {}, function (err, ack) {
        resolve(err ? { ok: false, error: "服务器没有响应，请稍后重试" } : ack);
      });
    });
  }

  /* ---- local media, with audio-only and text-only fallbacks ---- */
  function getMedia() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.resolve(null);
    }
    return navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } })
      .catch(function () {
        return navigator.mediaDevices.getUserMedia({ audio: true }).then(function (s) {
          showFallback("未检测到摄像头或未获得摄像头权限，已改为仅语音参加。");
          return s;
        });
      })
      .catch(function () {
        showFallback("无法使用摄像头和麦克风（设备缺失或未获授权）。您仍可观看、收听，并通过下方文字参加调解。");
        return null;
      });
  }

  function mediaFlags() {
    var a = localStream && localStream.getAudioTracks()[0];
    var v = localStream && localStream.getVideoTracks()[0];
    return { audio: !!(a && a.enabled), video: !!(v && v.enabled) || !!screenTrack, screen: !!screenTrack };
  }

  function renderLocal() {
    var f = mediaFlags();
    var flags = [];
    if (localStream) {
      if (!f.audio) flags.push("已静音");
      if (!localStream.getVideoTracks().length) flags.push("仅语音");
      else if (!f.video) flags.push("摄像头已关闭");
      if (screenTrack) flags.push("共享屏幕中");
    } else if (joined) {
      flags.push("仅观看");
    }
    $("rv-local-flags").textContent = flags.join(" · ");
    var hasAudio = !!(localStream && localStream.getAudioTracks().length);
    var hasVideo = !!(localStream && localStream.getVideoTracks().length);
    micBtn.hidden = !hasAudio;
    camBtn.hidden = !hasVideo;
    if (screenBtn) screenBtn.hidden = !(joined && navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
    micBtn.textContent = f.audio ? "静音" : "取消静音";
    micBtn.setAttribute("aria-pressed", f.audio ? "false" : "true");
    camBtn.textContent = hasVideo && localStream.getVideoTracks()[0].enabled ? "关闭摄像头" : "打开摄像头";
    camBtn.setAttribute("aria-pressed", hasVideo && !localStream.getVideoTracks()[0].enabled ? "true" : "false");
    if (screenBtn) {
      screenBtn.textContent = screenTrack ? "停止共享" : "共享屏幕";
      screenBtn.setAttribute("aria-pressed", screenTrack ? "true" : "false");
    }
    joinBtn.hidden = !!localStream;
    leaveBtn.hidden = !joined;
    localTile.classList.toggle("rv-sharing", !!screenTrack);
  }

  function announceMedia() {
    renderLocal();
    if (joined) call("rtc_media", mediaFlags());
  }

  /* ---- peers ---- */
  function tileFor(info) {
    var li = el("li", "rv-tile");
    li.setAttribute("data-peer", info.peer);
    li.setAttribute("data-initial", (info.name || "?").charAt(0));
    var video = el("video");
    video.autoplay = true; video.playsInline = true; video.muted = true;
    video.setAttribute("aria-label", info.label + " 的画面");
    var audio = el("audio");
    audio.autoplay = true;
    var cap = el("p", "rv-caption");
    cap.appendChild(el("span", "rv-name", info.label));
    var flags = el("span", "rv-flags");
    var net = el("span", "rv-net", "正在连接…");
    cap.appendChild(flags);
    cap.appendChild(net);
    li.appendChild(video);
    li.appendChild(audio);
    li.appendChild(cap);
    if (isMediator) {
      var mute = el("button", "btn btn-small rv-mute", "请其静音");
      mute.type = "button";
      mute.setAttribute("aria-label", "请其静音：" + info.label);  // the name starts with the visible text (WCAG 2.5.3)
      mute.addEventListener("click", function () { call("rtc_mute", { peer: info.peer }); });
      cap.appendChild(mute);
    }
    tiles.appendChild(li);
    return { tile: li, video: video, audio: audio, flags: flags, net: net };
  }

  function renderPeerMedia(p) {
    var m = p.info.media || {};
    var f = [];
    if (!m.audio) f.push("已静音");
    if (!m.video) f.push("无画面");
    if (m.screen) f.push("共享屏幕中");
    p.ui.flags.textContent = f.join(" · ");
    p.ui.tile.classList.toggle("rv-noimage", !m.video);
  }

  function setNet(p, cls, text) {
    p.ui.net.className = "rv-net rv-net-" + cls;
    p.ui.net.textContent = text;
  }

  function sendTracks(pc) {
    if (localStream) {
      localStream.getTracks().forEach(function (t) {
        var track = t.kind === "video" && screenTrack ? screenTrack : t;
        pc.addTrack(track, localStream);
      });
    }
    var kinds = localStream ? localStream.getTracks().map(function (t) { return t.kind; }) : [];
    ["audio", "video"].forEach(function (k) {
      if (kinds.indexOf(k) < 0) pc.addTransceiver(k, { direction: "recvonly" });
    });
  }

  // The newest media state heard per peer: an rtc_peer_media event can arrive before the answer to
  // our own hello, whose peer list was taken earlier; the higher media_rev wins.
  var latestMedia = {};
  function noteMedia(peer, media, rev) {
    var known = latestMedia[peer];
    if (!known || (rev || 0) > known.rev) latestMedia[peer] = { media: media, rev: rev || 0 };
    return latestMedia[peer];
  }

  function addPeer(info) {
    if (peers[info.peer]) return peers[info.peer];
    var newest = noteMedia(info.peer, info.media, info.media_rev);
    info.media = newest.media; info.media_rev = newest.rev;
    var pc = new RTCPeerConnection({ iceServers: iceServers });
    var p = { pc: pc, info: info, ui: tileFor(info), offerer: me < info.peer, queue: [], restarts: 0 };
    peers[info.peer] = p;
    renderPeerMedia(p);
    pc.onicecandidate = function (ev) {
      call("rtc_signal", { to: info.peer, kind: "candidate", candidate: ev.candidate ? ev.candidate.toJSON() : null });
    };
    pc.ontrack = function (ev) {
      var stream = ev.streams[0] || new MediaStream([ev.track]);
      if (p.ui.video.srcObject !== stream) {
        p.ui.video.srcObject = stream;
        p.ui.audio.srcObject = stream;
        p.ui.video.play().catch(function () {});
        p.ui.audio.play().catch(function () { soundBox.hidden = false; });
      }
    };
    pc.onconnectionstatechange = function () { onConnState(p); };
    pc.oniceconnectionstatechange = function () { onConnState(p); };
    sendTracks(pc);
    if (p.offerer) makeOffer(p, false);
    setStatus("视频已开启");
    return p;
  }

  function makeOffer(p, restart) {
    var pc = p.pc;
    return pc.createOffer(restart ? { iceRestart: true } : {}).then(function (offer) {
      return pc.setLocalDescription(offer);
    }).then(function () {
      return call("rtc_signal", { to: p.info.peer, kind: "offer", sdp: pc.localDescription.sdp, restart: !!restart });
    }).catch(function () { setNet(p, "poor", "连接失败"); });
  }

  function onConnState(p) {
    var s = p.pc.connectionState || p.pc.iceConnectionState;
    if (s === "connected" || s === "completed") {
      p.restarts = 0;
      clearTimeout(p.timer);
      if (!p.netSeen) setNet(p, "good", "已连接");
    } else if (s === "disconnected") {
      setNet(p, "reconnecting", "网络不稳定，正在重新连接…");
      clearTimeout(p.timer);
      p.timer = setTimeout(function () { restartIce(p); }, 3000);
    } else if (s === "failed") {
      setNet(p, "reconnecting", "连接中断，正在重新连接…");
      restartIce(p);
    }
  }

  function restartIce(p) {
    if (!peers[p.info.peer] || !p.offerer || p.restarts > 5) return;
    p.restarts += 1;
    if (p.pc.restartIce) p.pc.restartIce();
    makeOffer(p, true);
  }

  function removePeer(id) {
    var p = peers[id];
    if (!p) return;
    clearTimeout(p.timer);
    p.pc.close();
    p.ui.tile.remove();
    delete peers[id];
  }

  function onSignal(msg) {
    var p = peers[msg.from];
    if (!p) return;
    var pc = p.pc;
    if (msg.kind === "offer") {
      pc.setRemoteDescription({ type: "offer", sdp: msg.sdp }).then(function () {
        flushCandidates(p);
        return pc.createAnswer();
      }).then(function (answer) { return pc.setLocalDescription(answer); })
        .then(function () { return call("rtc_signal", { to: msg.from, kind: "answer", sdp: pc.localDescription.sdp }); })
        .catch(function () { setNet(p, "poor", "连接失败"); });
    } else if (msg.kind === "answer") {
      pc.setRemoteDescription({ type: "answer", sdp: msg.sdp }).then(function () { flushCandidates(p); })
        .catch(function () { setNet(p, "poor", "连接失败"); });
    } else if (msg.kind === "candidate" && msg.candidate) {
      if (pc.remoteDescription) pc.addIceCandidate(msg.candidate).catch(function () {});
      else p.queue.push(msg.candidate);
    }
  }

  function flushCandidates(p) {
    var q = p.queue; p.queue = [];
    q.forEach(function (c) { p.pc.addIceCandidate(c).catch(function () {}); });
  }

  /* Network quality from the connection statistics: round-trip time and packet loss. */
  function measure() {
    Object.keys(peers).forEach(function (id) {
      var p = peers[id];
      var s = p.pc.connectionState;
      if (s !== "connected" || !p.pc.getStats) return;
      p.pc.getStats().then(function (stats) {
        var rtt = null, lost = 0, got = 0;
        stats.forEach(function (r) {
          if (r.type === "candidate-pair" && r.nominated && r.currentRoundTripTime != null) rtt = r.currentRoundTripTime;
          if (r.type === "inbound-rtp") { lost += r.packetsLost || 0; got += r.packetsReceived || 0; }
        });
        var dLost = lost - (p.lost || 0), dGot = got - (p.got || 0);
        p.lost = lost; p.got = got;
        var loss = dGot + dLost > 0 ? dLost / (dGot + dLost) : 0;
        p.netSeen = true;
        var ms = rtt == null ? "" : "（" + Math.round(rtt * 1000) + " 毫秒）";
        if ((rtt == null || rtt < 0.3) && loss < 0.02) setNet(p, "good", "网络良好" + ms);
        else if ((rtt == null || rtt < 0.8) && loss < 0.08) setNet(p, "fair", "网络一般" + ms);
        else setNet(p, "poor", "网络较差" + ms);
      }).catch(function () {});
    });
  }
  setInterval(measure, 3000);

  /* ---- joining and leaving the video ---- */
  function hello() {
    return call("rtc_hello", { media: mediaFlags() }).then(function (ack) {
      if (!ack.ok) {
        setStatus(ack.code === "waiting" ? "调解员准许您进入调解室后即可参加视频" : ack.error);
        return;
      }
      me = ack.self;
      joined = true;
      iceServers = ack.ice_servers || [];
      ack.peers.forEach(addPeer);
      setStatus(localStream ? "视频已开启" : (ack.peers.length ? "正在观看" : "等待其他人员加入视频"));
      if (consentBtn && !ack.can_consent) consentBtn.hidden = true;
      onRecording(ack.recording);
      renderLocal();
    });
  }

  function leaveAll() {
    Object.keys(peers).forEach(removePeer);
    closeWorker();
    joined = false;
  }

  function rejoin() {
    if (!joined) return hello();
    leaveAll();
    return call("rtc_bye", {}).then(hello);
  }

  function startMedia() {
    joinBtn.disabled = true;
    setStatus("正在打开摄像头和麦克风…");
    wantMedia = true;
    return getMedia().then(function (stream) {
      localStream = stream;
      if (stream) {
        localVideo.srcObject = stream;
        localVideo.play().catch(function () {});
      }
      localTile.classList.toggle("rv-noimage", !(stream && stream.getVideoTracks().length));
      joinBtn.disabled = false;
      return rejoin();
    });
  }

  function stopMedia() {
    if (localStream) localStream.getTracks().forEach(function (t) { t.stop(); });
    if (screenTrack) screenTrack.stop();
    localStream = null; screenTrack = null; wantMedia = false;
    localVideo.srcObject = null;
    leaveAll();
    call("rtc_bye", {});
    setStatus("已退出视频，仍可通过文字参加调解");
    renderLocal();
  }

  joinBtn.addEventListener("click", startMedia);
  leaveBtn.addEventListener("click", stopMedia);
  micBtn.addEventListener("click", function () {
    var a = localStream && localStream.getAudioTracks()[0];
    if (a) { a.enabled = !a.enabled; announceMedia(); }
  });
  camBtn.addEventListener("click", function () {
    var v = localStream && localStream.getVideoTracks()[0];
    if (v) { v.enabled = !v.enabled; announceMedia(); }
  });
  if (screenBtn) {
    screenBtn.addEventListener("click", function () {
      if (screenTrack) { endScreen(); return; }
      navigator.mediaDevices.getDisplayMedia({ video: true }).then(function (s) {
        screenTrack = s.getVideoTracks()[0];
        screenTrack.addEventListener("ended", endScreen);
        replaceVideo(screenTrack);
        localVideo.srcObject = s;
        announceMedia();
      }).catch(function () { recError.textContent = "未能共享屏幕"; });
    });
  }
  function endScreen() {
    if (!screenTrack) return;
    screenTrack.stop();
    screenTrack = null;
    var cam = localStream && localStream.getVideoTracks()[0];
    replaceVideo(cam || null);
    localVideo.srcObject = localStream;
    announceMedia();
  }
  function replaceVideo(track) {
    var pcs = Object.keys(peers).map(function (k) { return peers[k].pc; });
    if (workerPc) pcs.push(workerPc);
    pcs.forEach(function (pc) {
      pc.getTransceivers().forEach(function (t) {
        var kind = t.receiver && t.receiver.track && t.receiver.track.kind;
        if (kind === "video" && t.direction !== "recvonly" && t.direction !== "inactive") {
          t.sender.replaceTrack(track).catch(function () {});
        }
      });
    });
  }
  soundBtn.addEventListener("click", function () {
    Object.keys(peers).forEach(function (k) { peers[k].ui.audio.play().catch(function () {}); });
    soundBox.hidden = true;
  });

  /* ---- recording ---- */
  function onRecording(r) {
    recording = r || { state: "idle" };
    var on = recording.state === "recording";
    recIndicator.hidden = !on;
    var text;
    if (on) text = "录制中：本次调解正在录音录像，录像将归入案件卷宗。";
    else if (recording.state === "suspended") {
      text = recording.reason === "caucus" ? "录制已暂停：背靠背调解进行中。"
        : "录制已暂停：等待" + (recording.missing || []).join("、") + "同意录音录像。";
    } else text = "未录制。录制须经在场各方同意。";
    if (recording.state === "idle" && (recording.missing || []).length && isMediator) {
      text += "尚未同意：" + recording.missing.join("、") + "。";
    }
    recStatus.textContent = text;
    if (recStartBtn) { recStartBtn.hidden = recording.state !== "idle"; }
    if (recStopBtn) { recStopBtn.hidden = recording.state === "idle"; }
    syncWorker();
  }

  function closeWorker() {
    if (workerPc) { workerPc.close(); workerPc = null; }
  }

  function gathered(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") { resolve(); return; }
      var t = setTimeout(resolve, 3000);
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") { clearTimeout(t); resolve(); }
      });
    });
  }

  function syncWorker() {
    if (recording.state !== "recording" || !joined) { closeWorker(); return; }
    if (workerPc || !localStream) return;
    var pc = workerPc = new RTCPeerConnection({ iceServers: iceServers });
    localStream.getTracks().forEach(function (t) {
      var sender = pc.addTrack(t.kind === "video" && screenTrack ? screenTrack : t, localStream);
      if (t.kind === "video" && sender.getParameters && sender.setParameters) {
        // The dossier copy needs no full resolution: half size and 500 kbit/s halve the worker's load.
        var params = sender.getParameters();
        params.encodings = params.encodings && params.encodings.length ? params.encodings : [{}];
        params.encodings[0].scaleResolutionDownBy = 2;
        params.encodings[0].maxBitrate = 500000;
        sender.setParameters(params).catch(function () {});
      }
    });
    pc.createOffer().then(function (o) { return pc.setLocalDescription(o); })
      .then(function () { return gathered(pc); })
      .then(function () { return call("rtc_worker_offer", { sdp: pc.localDescription.sdp }); })
      .then(function (ack) {
        if (workerPc !== pc) return;
        if (!ack.ok) { closeWorker(); return; }
        return pc.setRemoteDescription(ack.answer);
      }).catch(function () { if (workerPc === pc) closeWorker(); });
  }

  if (recStartBtn) {
    recStartBtn.addEventListener("click", function () {
      recError.textContent = "";
      call("rtc_record_start", {}).then(function (ack) {
        if (!ack.ok) recError.textContent = ack.error; else onRecording(ack.recording);
      });
    });
  }
  if (recStopBtn) {
    recStopBtn.addEventListener("click", function () {
      recError.textContent = "";
      recStopBtn.disabled = true;
      call("rtc_record_stop", {}).then(function (ack) {
        recStopBtn.disabled = false;
        if (!ack.ok) recError.textContent = ack.error;
        else { onRecording(ack.recording); recStatus.textContent = "录制已停止，" + ack.files.length + " 个录像文件已归入卷宗。"; }
      });
    });
  }
  if (consentBtn) {
    consentBtn.addEventListener("click", function () {
      recError.textContent = "";
      call("rtc_consent", { consent: !consented }).then(function (ack) {
        if (!ack.ok) { recError.textContent = ack.error; return; }
        consented = !consented;
        consentBtn.setAttribute("aria-pressed", consented ? "true" : "false");
        consentBtn.textContent = consented ? "已同意录音录像（点击撤回）" : "我同意本次调解录音录像";
        onRecording(ack.recording);
      });
    });
  }

  /* ---- server events ---- */
  socket.on("connect", function () {
    setStatus("正在加入视频…");
    joined = false;
    Object.keys(peers).forEach(removePeer);
    closeWorker();
    hello();
  });
  socket.on("disconnect", function () {
    setStatus("网络中断，正在重新连接…");
    Object.keys(peers).forEach(function (k) { setNet(peers[k], "reconnecting", "正在重新连接…"); });
  });
  socket.on("admitted", function () { if (!joined) hello(); });
  socket.on("rtc_peer_joined", function (info) { if (joined) addPeer(info); });
  socket.on("rtc_peer_left", function (m) { removePeer(m.peer); });
  socket.on("rtc_signal", onSignal);
  socket.on("rtc_peer_media", function (m) {
    var newest = noteMedia(m.peer, m.media, m.media_rev);
    var p = peers[m.peer];
    if (p) { p.info.media = newest.media; p.info.media_rev = newest.rev; renderPeerMedia(p); }
  });
  socket.on("rtc_recording", onRecording);
  socket.on("rtc_muted", function (m) {
    var a = localStream && localStream.getAudioTracks()[0];
    if (a) { a.enabled = false; announceMedia(); }
    recError.textContent = m.message;
  });
  socket.on("ended", function () { stopMedia(); root.hidden = true; });
  socket.on("removed", function () { stopMedia(); root.hidden = true; });

  renderLocal();
  window.RoomVideo = { peers: peers, state: function () { return { me: me, joined: joined, recording: recording, wantMedia: wantMedia,
    worker: workerPc ? workerPc.connectionState : null }; } };
})();
