// Tag inbox: keyboard shortcuts and decisions through the JSON API, without reloading the page.
// Community text only ever goes into the page through textContent.
(function () {
  'use strict';
  var list = document.getElementById('inbox-list');
  if (!list) return;
  var status = document.getElementById('inbox-status');
  var pendingEl = document.getElementById('pending-count');
  var bulk = document.getElementById('bulk');
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';
  var current = null;
  var loading = false;

  function items() {
    return Array.prototype.slice.call(list.querySelectorAll('.inbox-item'));
  }
  function say(text) {
    if (status) status.textContent = text;
  }
  // Decisions made on this page: a refill's total counts only those made before it was read, and an
  // item decided while it was read is not listed again.
  var decided = 0;
  var gone = {};
  function setPending(delta, id) {
    decided++;
    if (id) gone[id] = true;
    if (!pendingEl) return;
    var n = Math.max(0, (parseInt(pendingEl.textContent, 10) || 0) + delta);
    pendingEl.textContent = String(n);
  }

  function focusItem(el) {
    if (current) current.classList.remove('current');
    current = el || null;
    if (!current) return;
    current.classList.add('current');
    current.focus({ preventScroll: false });
    current.scrollIntoView({ block: 'nearest' });
  }

  function move(step) {
    var all = items();
    if (!all.length) return;
    var i = current ? all.indexOf(current) : -1;
    var next = all[Math.min(all.length - 1, Math.max(0, i + step))];
    focusItem(next);
  }

  function api(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (res) {
      return res
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (!res.ok) throw new Error(data && data.error ? data.error : 'HTTP ' + res.status);
          return data;
        });
    });
  }

  function removeItem(el, message) {
    var all = items();
    var i = all.indexOf(el);
    var next = all[i + 1] || all[i - 1] || null;
    el.remove();
    setPending(-1, el.getAttribute('data-id'));
    say(message);
    if (next) focusItem(next);
    else current = null;
    refill();
  }

  function decide(el, action) {
    var id = el.getAttribute('data-id');
    var url = action === 'confirm' ? '/api/items/' + id + '/confirm' : '/api/items/' + id + '/not-feedback';
    el.setAttribute('aria-busy', 'true');
    return api('POST', url, {}).then(
      function () {
        removeItem(el, (action === 'confirm' ? 'Accepted item ' : 'Marked not feedback: item ') + id);
      },
      function (err) {
        el.removeAttribute('aria-busy');
        say('Failed: ' + err.message);
      },
    );
  }

  function reject(el, suggestion) {
    var id = el.getAttribute('data-id');
    var tag = suggestion.getAttribute('data-tag');
    return api('POST', '/api/items/' + id + '/tags/remove', { tag: tag }).then(
      function () {
        suggestion.remove();
        say('Rejected tag ' + tag + ' on item ' + id);
        focusItem(el);
      },
      function (err) {
        say('Failed: ' + err.message);
      },
    );
  }

  function addTag(el, input) {
    var id = el.getAttribute('data-id');
    var tag = input.value.trim();
    if (!tag) return Promise.resolve();
    return api('POST', '/api/items/' + id + '/tags', { tag: tag }).then(
      function () {
        var ul = el.querySelector('.suggestions');
        var li = document.createElement('li');
        li.className = 'added';
        var span = document.createElement('span');
        span.className = 'tag';
        span.textContent = tag;
        li.appendChild(span);
        var prov = document.createElement('span');
        prov.className = 'prov';
        prov.textContent = ' human';
        li.appendChild(prov);
        if (ul) ul.appendChild(li);
        input.value = '';
        say('Added tag ' + tag + ' to item ' + id);
        focusItem(el);
      },
      function (err) {
        say('Failed: ' + err.message);
      },
    );
  }

  function hidden(name, value) {
    var i = document.createElement('input');
    i.type = 'hidden';
    i.name = name;
    i.value = value;
    return i;
  }

  function form(action, cls, dataAction) {
    var f = document.createElement('form');
    f.method = 'post';
    f.action = action;
    f.className = 'inline ' + (cls || '');
    f.setAttribute('data-action', dataAction);
    f.appendChild(hidden('_csrf', csrf));
    f.appendChild(hidden('next', '/inbox'));
    return f;
  }

  function button(text, cls) {
    var b = document.createElement('button');
    b.type = 'submit';
    b.textContent = text;
    if (cls) b.className = cls;
    return b;
  }

  function percent(x) {
    return typeof x === 'number' ? ' ' + Math.round(x * 100) + '%' : '';
  }

  function renderItem(item) {
    var id = String(item.id);
    var li = document.createElement('li');
    li.className = 'inbox-item';
    li.tabIndex = -1;
    li.setAttribute('data-id', id);
    li.setAttribute('aria-labelledby', 'item-' + id + '-title');
    var h = document.createElement('h2');
    h.className = 'h3';
    h.id = 'item-' + id + '-title';
    var a = document.createElement('a');
    a.href = '/items/' + id;
    a.textContent = item.subject || 'Item ' + id;
    h.appendChild(a);
    if (item.kind) {
      var k = document.createElement('span');
      k.className = 'badge kind';
      k.textContent = item.kind + percent(item.confidence);
      h.appendChild(document.createTextNode(' '));
      h.appendChild(k);
    }
    li.appendChild(h);
    // Who wrote it, their org and segment (staff marked), where and when: all as text, never markup.
    var by = document.createElement('p');
    by.className = 'byline';
    var who = document.createElement('a');
    who.href = '/people/' + String(item.personId);
    who.textContent = String(item.author || '');
    by.appendChild(who);
    if (item.org) by.appendChild(document.createTextNode(' · ' + item.org));
    by.appendChild(document.createTextNode(' · '));
    var seg = document.createElement('span');
    seg.className = 'badge segment' + (item.segment === 'staff' ? ' staff' : '') + (item.segment === 'bot' ? ' bot' : '');
    seg.textContent = String(item.segment || '');
    by.appendChild(seg);
    var meta = document.createElement('span');
    meta.className = 'muted';
    meta.textContent = ' in ' + item.channel + ', ' + new Date(item.at).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
    by.appendChild(meta);
    li.appendChild(by);
    var lead = document.createElement('p');
    lead.className = 'need text';
    lead.textContent = String(item.lead || item.text || '');
    li.appendChild(lead);
    var text = document.createElement('div');
    text.className = 'text';
    var full = String(item.text || '');
    if (item.folded) {
      var d = document.createElement('details');
      d.className = 'more';
      var s = document.createElement('summary');
      s.textContent = 'Whole message';
      var rest = document.createElement('div');
      rest.className = 'text';
      rest.textContent = full.slice(0, 20000);
      d.appendChild(s);
      d.appendChild(rest);
      text.appendChild(d);
    }
    li.appendChild(text);
    var check = document.createElement('div');
    check.className = 'check';
    var cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.name = 'items';
    cb.value = id;
    cb.id = 'sel-' + id;
    cb.className = 'select';
    cb.setAttribute('form', 'bulk');
    var cl = document.createElement('label');
    cl.htmlFor = cb.id;
    cl.textContent = 'Select item ' + id;
    check.appendChild(cb);
    check.appendChild(cl);
    li.appendChild(check);
    var ul = document.createElement('ul');
    ul.className = 'suggestions';
    ul.setAttribute('aria-label', 'Suggested tags for item ' + id);
    (item.tags || []).forEach(function (t) {
      var sli = document.createElement('li');
      sli.className = 'suggestion';
      sli.setAttribute('data-tag', t.tag);
      var tg = document.createElement('span');
      tg.className = 'tag';
      tg.textContent = t.tag;
      var pv = document.createElement('span');
      pv.className = 'prov';
      pv.textContent = ' ' + t.provenance + percent(t.confidence);
      var f = form('/items/' + id + '/tags/remove', 'reject', 'reject');
      f.appendChild(hidden('tag', t.tag));
      f.appendChild(button('Reject ' + t.tag, 'link'));
      sli.appendChild(tg);
      sli.appendChild(pv);
      sli.appendChild(document.createTextNode(' '));
      sli.appendChild(f);
      ul.appendChild(sli);
    });
    li.appendChild(ul);
    var actions = document.createElement('div');
    actions.className = 'actions';
    var fa = form('/items/' + id + '/confirm', '', 'confirm');
    fa.appendChild(button('Accept', 'primary'));
    actions.appendChild(fa);
    var ft = form('/items/' + id + '/tags', 'add-tag', 'add');
    var lab = document.createElement('label');
    lab.htmlFor = 'tag-' + id;
    lab.textContent = 'Add tag';
    var inp = document.createElement('input');
    inp.id = 'tag-' + id;
    inp.name = 'tag';
    inp.maxLength = 64;
    inp.required = true;
    inp.className = 'tag-input';
    ft.appendChild(lab);
    ft.appendChild(document.createTextNode(' '));
    ft.appendChild(inp);
    ft.appendChild(document.createTextNode(' '));
    ft.appendChild(button('Add'));
    actions.appendChild(ft);
    var fx = form('/items/' + id + '/not-feedback', '', 'not-feedback');
    fx.appendChild(button('Not feedback', 'danger'));
    actions.appendChild(fx);
    li.appendChild(actions);
    return li;
  }

  function refill() {
    var all = items();
    if (loading || all.length >= 10) return;
    loading = true;
    var decidedBefore = decided;
    api('GET', '/api/items?status=pending&limit=50&offset=0')
      .then(
        function (data) {
          var have = {};
          items().forEach(function (el) {
            have[el.getAttribute('data-id')] = true;
          });
          var added = 0;
          (data.items || []).forEach(function (item) {
            if (have[String(item.id)] || gone[String(item.id)]) return;
            list.appendChild(renderItem(item));
            added++;
          });
          // A decision made while this was read may be missing from its total: the page's own count stands then.
          if (pendingEl && typeof data.total === 'number' && decided === decidedBefore) pendingEl.textContent = String(data.total);
          var empty = document.getElementById('inbox-empty');
          if (empty && items().length) empty.remove();
          if (!items().length && !document.getElementById('inbox-empty')) {
            var e = document.createElement('li');
            e.className = 'empty';
            e.id = 'inbox-empty';
            var p = document.createElement('p');
            p.textContent = 'Nothing is waiting. Well done.';
            e.appendChild(p);
            list.appendChild(e);
          }
          if (!current && items().length) focusItem(items()[0]);
          if (added) say(added + ' more items loaded');
        },
        function (err) {
          say('Could not load more items: ' + err.message);
        },
      )
      .then(function () {
        loading = false;
      });
  }

  list.addEventListener('submit', function (ev) {
    var f = ev.target;
    var el = f.closest('.inbox-item');
    if (!el) return;
    ev.preventDefault();
    var action = f.getAttribute('data-action');
    if (action === 'confirm' || action === 'not-feedback') decide(el, action);
    else if (action === 'reject') reject(el, f.closest('.suggestion'));
    else if (action === 'add') addTag(el, f.querySelector('input[name="tag"]'));
  });

  list.addEventListener('focusin', function (ev) {
    var el = ev.target.closest && ev.target.closest('.inbox-item');
    if (el && el !== current) {
      if (current) current.classList.remove('current');
      current = el;
      el.classList.add('current');
    }
  });

  if (bulk)
    bulk.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var submitter = ev.submitter;
      var action = submitter && submitter.value === 'not-feedback' ? 'not-feedback' : 'confirm';
      var boxes = Array.prototype.slice.call(document.querySelectorAll('input.select:checked'));
      var ids = boxes.map(function (b) {
        return parseInt(b.value, 10);
      });
      if (!ids.length) {
        say('Select items first (s, or the checkboxes).');
        return;
      }
      api('POST', '/api/items/bulk', { ids: ids, action: action }).then(
        function () {
          boxes.forEach(function (b) {
            var el = b.closest('.inbox-item');
            if (el) {
              if (el === current) current = null;
              el.remove();
              setPending(-1, el.getAttribute('data-id'));
            }
          });
          say((action === 'confirm' ? 'Accepted ' : 'Marked not feedback: ') + ids.length + ' items');
          if (!current && items().length) focusItem(items()[0]);
          refill();
        },
        function (err) {
          say('Failed: ' + err.message);
        },
      );
    });

  document.addEventListener('keydown', function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    var typing = t && ((t.tagName === 'INPUT' && t.type !== 'checkbox') || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
    if (typing) {
      if (ev.key === 'Escape' && current) {
        ev.preventDefault();
        focusItem(current);
      }
      return;
    }
    var el = current;
    switch (ev.key) {
      case 'j':
        ev.preventDefault();
        move(1);
        break;
      case 'k':
        ev.preventDefault();
        move(-1);
        break;
      case 'a':
        if (el) {
          ev.preventDefault();
          decide(el, 'confirm');
        }
        break;
      case 'x':
        if (el) {
          ev.preventDefault();
          decide(el, 'not-feedback');
        }
        break;
      case 'r':
        if (el) {
          var s = el.querySelector('.suggestion');
          ev.preventDefault();
          if (s) reject(el, s);
          else say('No suggestion left to reject');
        }
        break;
      case 't':
        if (el) {
          ev.preventDefault();
          var i = el.querySelector('.tag-input');
          if (i) i.focus();
        }
        break;
      case 's':
        if (el) {
          ev.preventDefault();
          var c = el.querySelector('input.select');
          if (c) {
            c.checked = !c.checked;
            say((c.checked ? 'Selected' : 'Unselected') + ' item ' + el.getAttribute('data-id'));
          }
        }
        break;
      case 'o':
        if (el) {
          ev.preventDefault();
          window.location.href = '/items/' + el.getAttribute('data-id');
        }
        break;
      default:
        break;
    }
  });

  var first = items()[0];
  if (first) focusItem(first);
})();
