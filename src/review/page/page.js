// The review page: renders the contact sheet from the JSON the server (or the export) put in the page,
// follows a build live through server-sent events, and pins takes. Plain browser JavaScript, no build step:
// a classic script (not a module) so the exported page also runs when opened from disk (file://).
// Every text from the storyboard goes in through textContent, never as HTML.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('review-data').textContent);
  var model = data.model;
  var token = data.token; // null in an export: nothing can be pinned there
  var sheet = document.getElementById('sheet');
  var cards = new Map(); // shot id -> { json, el }
  var live = new Map(); // shot id -> { phase, progress }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs)
      for (var k in attrs) {
        if (k === 'text') node.textContent = attrs[k];
        else if (k === 'className') node.className = attrs[k];
        else node.setAttribute(k, attrs[k]);
      }
    (children || []).forEach(function (c) {
      if (c) node.appendChild(c);
    });
    return node;
  }
  function usd(n) {
    return n === null || n === undefined ? 'cost unknown' : '$' + n.toFixed(2);
  }
  function videoUrl(d) {
    return 'media/' + d + '.mp4';
  }
  function posterUrl(videoDigest, thumbDigest) {
    return thumbDigest ? 'media/' + thumbDigest + '.webp' : 'media/' + videoDigest + '.jpg';
  }
  var STATE_WORDS = { 'in-flight': 'in flight' };

  // A lazily loaded still that turns into a video only when asked for (click, Enter or Space).
  function playable(videoDigest, thumbDigest, label) {
    var img = el('img', {
      loading: 'lazy',
      decoding: 'async',
      alt: label,
      src: posterUrl(videoDigest, thumbDigest),
    });
    var button = el('button', { className: 'play', type: 'button', 'aria-label': 'Play ' + label }, [img]);
    button.addEventListener('click', function () {
      var video = el('video', {
        controls: '',
        preload: 'none',
        playsinline: '',
        poster: posterUrl(videoDigest, thumbDigest),
        'aria-label': label,
      });
      video.src = videoUrl(videoDigest);
      button.replaceWith(video);
      video.focus();
      var p = video.play();
      if (p && p.catch) p.catch(function () {});
    });
    return button;
  }

  function lineage(shot) {
    var parent = shot.parent;
    var kids = shot.children;
    if (!parent && kids.length === 0) return null;
    var nodes = [];
    function link(id, self) {
      return el('a', { href: '#shot-' + id, className: self ? 'self' : '', text: id });
    }
    if (parent) {
      nodes.push(link(parent.id, false));
      nodes.push(
        el('span', { className: 'edge', text: parent.relation === 'remix_of' ? '─remix→' : '─extend→' }),
      );
    }
    nodes.push(link(shot.id, true));
    if (kids.length > 0) {
      nodes.push(el('span', { className: 'edge', text: '→' }));
      kids.forEach(function (k) {
        nodes.push(link(k, false));
      });
    }
    return el('nav', { className: 'lineage', 'aria-label': 'Lineage' }, nodes);
  }

  function takeView(shot, take) {
    var label = shot.id + ' take ' + take.n;
    var thumb = take.video
      ? playable(take.video, take.thumbnail, label)
      : el('span', { className: 'meta', text: 'removed by gc' });
    var parts = [
      el('div', { className: 'thumb' }, [thumb]),
      el('span', { text: 'Take ' + take.n + ' · ' + usd(take.costUsd) }),
      el('span', {
        className: 'meta',
        text: new Date(take.createdAt).toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      }),
    ];
    if (take.pinned) parts.push(el('span', { className: 'mark', text: '✓ pinned' }));
    else if (token && shot.pinnable && take.video) {
      var b = el('button', {
        className: 'pin',
        type: 'button',
        text: 'Pin this take',
        'aria-label': 'Pin take ' + take.n + ' of ' + shot.id,
      });
      b.addEventListener('click', function () {
        pin(shot.id, take.n, b);
      });
      parts.push(b);
    }
    return el(
      'figure',
      { className: 'take' + (take.pinned ? ' pinned' : ''), 'data-take': String(take.n) },
      parts,
    );
  }

  function card(shot) {
    var size = shot.size.split('x');
    var frame = el('div', { className: 'frame' });
    if (shot.pinned && shot.pinned.video) {
      frame.style.aspectRatio = size[0] + ' / ' + size[1];
      var pinnedTake = shot.takes.find(function (t) {
        return t.pinned;
      });
      frame.appendChild(playable(shot.pinned.video, pinnedTake ? pinnedTake.thumbnail : null, shot.id));
    } else
      frame.appendChild(
        el('span', {
          className: 'empty',
          text: shot.pinned ? 'pinned video not in the local store' : 'not built yet',
        }),
      );
    var phase = live.get(shot.id);
    var badge = phase
      ? el('span', {
          className: 'badge busy',
          'data-live': phase.phase,
          text:
            phase.phase +
            (phase.progress !== null && phase.progress !== undefined ? ' ' + phase.progress + '%' : ''),
        })
      : el('span', {
          className: 'badge ' + shot.state,
          text: STATE_WORDS[shot.state] || shot.state,
        });
    var progress = null;
    if (phase && phase.progress !== null && phase.progress !== undefined) {
      var bar = el('div');
      bar.style.width = phase.progress + '%';
      progress = el(
        'div',
        {
          className: 'progress',
          role: 'progressbar',
          'aria-valuenow': String(phase.progress),
          'aria-valuemin': '0',
          'aria-valuemax': '100',
        },
        [bar],
      );
    }
    var detail =
      shot.state === 'fresh' || shot.detail === ''
        ? null
        : el('p', { className: 'detail' + (shot.state === 'failed' ? ' failed' : ''), text: shot.detail });
    var cost = shot.state === 'fresh' ? usd(shot.costUsd) : 'to build: ' + usd(shot.estimatedCostUsd);
    var takes =
      shot.takes.length > 0
        ? el(
            'div',
            { className: 'takes', role: 'list', 'aria-label': 'Takes' },
            shot.takes.map(function (t) {
              var v = takeView(shot, t);
              v.setAttribute('role', 'listitem');
              return v;
            }),
          )
        : null;
    var article = el(
      'article',
      {
        className: 'shot',
        id: 'shot-' + shot.id,
        tabindex: '0',
        'data-shot': shot.id,
        'data-state': phase ? phase.phase : shot.state,
        'aria-label': 'Shot ' + shot.id,
      },
      [
        el('header', null, [el('h2', { text: shot.id }), badge]),
        progress,
        frame,
        shot.pinned && shot.pinned.outdated && shot.pinned.video
          ? el('p', { className: 'outdated', text: 'Pinned video, made from older inputs' })
          : null,
        el('div', {
          className: 'meta',
          text: shot.model + ' · ' + shot.size + ' · ' + shot.seconds + ' s · ' + cost + ' · ' + shot.output,
        }),
        el('p', { className: 'prompt', text: shot.prompt }),
        detail,
        lineage(shot),
        takes,
      ],
    );
    return article;
  }

  function summary() {
    var counts = {};
    model.shots.forEach(function (s) {
      counts[s.state] = (counts[s.state] || 0) + 1;
    });
    var parts = Object.keys(counts)
      .sort()
      .map(function (k) {
        return counts[k] + ' ' + (STATE_WORDS[k] || k);
      });
    document.getElementById('summary').textContent =
      model.shots.length +
      ' shots' +
      (parts.length ? ': ' + parts.join(', ') : '') +
      (model.provider ? ' · provider ' + model.provider : '') +
      (token
        ? ''
        : ' · exported ' + new Date(model.generatedAt).toISOString().slice(0, 16).replace('T', ' ') + ' UTC');
    var errors = document.getElementById('errors');
    errors.hidden = model.errors.length === 0;
    errors.textContent = model.errors.join('\n');
  }

  // Re-renders only the cards whose data changed, so a video playing in another card keeps playing.
  function render() {
    summary();
    var seen = new Set();
    var previous = null;
    model.shots.forEach(function (shot) {
      seen.add(shot.id);
      var json = JSON.stringify([shot, live.get(shot.id) || null]);
      var known = cards.get(shot.id);
      var node;
      if (known && known.json === json) node = known.el;
      else {
        node = card(shot);
        if (known) {
          var hadFocus = known.el === document.activeElement;
          known.el.replaceWith(node);
          if (hadFocus) node.focus();
        }
        cards.set(shot.id, { json: json, el: node });
      }
      var wanted = previous ? previous.nextSibling : sheet.firstChild;
      if (wanted !== node) sheet.insertBefore(node, wanted);
      previous = node;
    });
    cards.forEach(function (v, id) {
      if (!seen.has(id)) {
        v.el.remove();
        cards.delete(id);
      }
    });
    sheet.setAttribute('data-rendered', String(model.generatedAt));
    if (performance.mark && performance.getEntriesByName('sheet-rendered').length === 0)
      performance.mark('sheet-rendered');
  }

  function pin(shot, take, button) {
    button.disabled = true;
    button.textContent = 'Pinning…';
    fetch('api/pin', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sora-build-token': token },
      body: JSON.stringify({ shot: shot, take: take }),
    })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.error || 'HTTP ' + r.status);
          if (body.model) {
            model = body.model;
            render();
          }
        });
      })
      .catch(function (e) {
        button.disabled = false;
        button.textContent = 'Pin this take';
        button.setAttribute('title', 'Could not pin: ' + e.message);
        button.insertAdjacentElement(
          'afterend',
          el('span', { className: 'detail failed', role: 'alert', text: e.message }),
        );
      });
  }

  // Keyboard: j/k and the arrow keys move between shots; Enter or Space on a shot plays its pinned video.
  document.addEventListener('keydown', function (e) {
    if (
      e.target &&
      (e.target.tagName === 'INPUT' || e.target.tagName === 'TEXTAREA' || e.target.tagName === 'VIDEO')
    )
      return;
    var list = Array.prototype.slice.call(sheet.children);
    var current =
      document.activeElement && document.activeElement.closest
        ? document.activeElement.closest('.shot')
        : null;
    var i = current ? list.indexOf(current) : -1;
    var next = null;
    if (e.key === 'j' || e.key === 'ArrowDown' || e.key === 'ArrowRight')
      next = list[Math.min(list.length - 1, i + 1)];
    else if (e.key === 'k' || e.key === 'ArrowUp' || e.key === 'ArrowLeft') next = list[Math.max(0, i - 1)];
    else if ((e.key === 'Enter' || e.key === ' ') && current === document.activeElement) {
      var play = current.querySelector('.frame .play');
      if (play) {
        e.preventDefault();
        play.click();
      }
      return;
    } else return;
    if (next) {
      e.preventDefault();
      next.focus();
      next.scrollIntoView({ block: 'nearest' });
    }
  });

  render();

  // Live: the server pushes a new model when the lockfile, the store or the manifest change, and the phase
  // of every shot a build (in any process) is working on. No polling: EventSource reconnects by itself.
  if (data.live && typeof EventSource !== 'undefined') {
    var liveLine = document.getElementById('live');
    var source = new EventSource('api/events');
    source.addEventListener('model', function (e) {
      model = JSON.parse(e.data);
      render();
    });
    source.addEventListener('live', function (e) {
      var msg = JSON.parse(e.data);
      live = new Map(Object.entries(msg.shots));
      liveLine.hidden = !msg.building;
      liveLine.textContent = msg.building ? 'Building: ' + live.size + ' shot(s) in progress' : '';
      render();
    });
    source.addEventListener('open', function () {
      document.body.setAttribute('data-connected', 'true');
    });
    // The server stopped (Ctrl-C) or restarted: say so; the browser reconnects on its own when it is back.
    source.addEventListener('error', function () {
      document.body.setAttribute('data-connected', 'false');
      live = new Map();
      liveLine.hidden = false;
      liveLine.textContent =
        'Not connected to sora-build review: the page shows the state when it was last connected.';
      render();
    });
  }
})();
