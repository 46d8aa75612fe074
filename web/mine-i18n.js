/* Texts only the "my complaints" page uses (loaded after i18n.js and app-i18n.js). */
Object.assign(window.I18N, {
"title_mine":{"kk":"Менің шағымдарым — Qalqan","ru":"Мои жалобы — Qalqan","en":"My complaints — Qalqan"},
"desc_mine":{"kk":"Осы телефоннан жіберілген шағымдар және олардың қазіргі мәртебесі. Тізім тек осы құрылғыда сақталады.","ru":"Жалобы, отправленные с этого телефона, и их текущий статус. Список хранится только на этом устройстве.","en":"Complaints sent from this phone and their current status. The list is kept on this device only."},
"mine_lead":{"kk":"Осы телефоннан жіберілген шағымдар. Тізім тек осы құрылғыда сақталады: оны басқа ешкім көрмейді.","ru":"Жалобы, отправленные с этого телефона. Список хранится только на этом устройстве: больше его никто не видит.","en":"Complaints sent from this phone. The list is kept on this device only: no one else sees it."},
"mine_empty":{"kk":"Бұл телефоннан әлі шағым жіберілмеген.","ru":"С этого телефона ещё не отправлено ни одной жалобы.","en":"No complaint has been sent from this phone yet."},
"push_on":{"kk":"Мәртебе өзгергенде хабарлау","ru":"Сообщить, когда изменится статус","en":"Notify me when the status changes"},
"push_off":{"kk":"Хабарламаларды өшіру","ru":"Отключить уведомления","en":"Turn notifications off"},
"push_done":{"kk":"Мәртебе өзгергенде осы телефонға хабарлама келеді.","ru":"Когда статус изменится, на этот телефон придёт уведомление.","en":"This phone will get a notification when the status changes."},
"push_denied":{"kk":"Хабарламаларға браузер параметрлерінде тыйым салынған.","ru":"Уведомления запрещены в настройках браузера.","en":"Notifications are blocked in the browser settings."},
"push_failed":{"kk":"Хабарламаларды қосу мүмкін болмады.","ru":"Не удалось включить уведомления.","en":"Notifications could not be turned on."},
"install":{"kk":"Қолданбаны телефонға орнату","ru":"Установить приложение на телефон","en":"Install the app on this phone"}
});
